"""Running the web app for real: gunicorn as the WSGI server, and applying migrations."""
from __future__ import annotations

import os


def upgrade_database() -> None:
    """Bring the database to the latest Alembic revision (inside an app context)."""
    from flask_migrate import upgrade

    upgrade()


def serve(host: str, port: int, *, workers: int | None = None, threads: int = 4) -> None:
    """Serve `wsgi:app` under gunicorn (gthread workers: LTI launches wait on platform HTTP)."""
    from gunicorn.app.base import BaseApplication

    class _Gunicorn(BaseApplication):
        def load_config(self):
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers or max(2, (os.cpu_count() or 1) * 2))
            self.cfg.set("threads", threads)
            self.cfg.set("worker_class", "gthread")
            self.cfg.set("accesslog", os.environ.get("GRADELOOP_ACCESS_LOG") or None)
            self.cfg.set("timeout", 60)
            self.cfg.set("graceful_timeout", 20)

        def load(self):
            from wsgi import app

            return app

    _Gunicorn().run()
