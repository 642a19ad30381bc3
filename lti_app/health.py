"""`/healthz`: liveness plus a database round trip, for load balancers and docker healthchecks."""
from flask import Blueprint, Flask, jsonify
from sqlalchemy import text

from lti_app.extensions import db

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    try:
        db.session.execute(text("SELECT 1"))
    except Exception as exc:  # the endpoint's whole job is to report this, not raise it
        return jsonify(status="error", database=str(exc.__class__.__name__)), 503
    return jsonify(status="ok", database="ok")


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
