"""WSGI entry point for production servers: `gunicorn wsgi:app` (what `gradeloop serve` runs)."""
from lti_app import create_app

app = create_app()
