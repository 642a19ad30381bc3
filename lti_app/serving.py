"""Running the web app for real: gunicorn as the WSGI server, and applying migrations."""
from __future__ import annotations

import os

# gunicorn's default access line has the query string and the Referer. Inside an LMS iframe the
# tool session travels as `?lt=<launch token>` (cookies may be refused there), so those fields
# would write working two-hour credentials into every access log: path only, no Referer.
ACCESS_LOG_FORMAT = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(L)ss "%(a)s"'


def upgrade_database() -> None:
    """Bring the database to the latest Alembic revision (inside an app context)."""
    from flask_migrate import upgrade

    upgrade()


def pending_migrations() -> list[str]:
    """Alembic heads the database has not reached yet (inside an app context)."""
    from alembic.migration import MigrationContext
    from alembic.script import ScriptDirectory
    from flask import current_app

    from lti_app.extensions import db

    script = ScriptDirectory.from_config(current_app.extensions["migrate"].migrate.get_config())
    with db.engine.connect() as conn:
        current = set(MigrationContext.configure(conn).get_current_heads())
    return sorted(set(script.get_heads()) - current)


def serve(host: str, port: int, *, workers: int | None = None, threads: int = 4,
          migrate: bool = False) -> None:
    """Serve the app under gunicorn (gthread workers: LTI launches wait on platform HTTP).

    Refuses to start on a database that is behind the migrations (every page would fail),
    unless `migrate` asks to apply them first."""
    from gunicorn.app.base import BaseApplication

    from lti_app import create_app

    app = create_app()
    with app.app_context():
        if pending_migrations():
            if not migrate:
                raise SystemExit("The database is not migrated yet: run `gradeloop db upgrade` "
                                 "(or `gradeloop serve --migrate`) first.")
            upgrade_database()

    class _Gunicorn(BaseApplication):
        def load_config(self):
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers or max(2, (os.cpu_count() or 1) * 2))
            self.cfg.set("threads", threads)
            self.cfg.set("worker_class", "gthread")
            self.cfg.set("accesslog", os.environ.get("GRADELOOP_ACCESS_LOG") or None)
            self.cfg.set("access_log_format", ACCESS_LOG_FORMAT)
            self.cfg.set("timeout", 60)
            self.cfg.set("graceful_timeout", 20)

        def load(self):
            # Same factory as wsgi.py; imported here so the console script works from any cwd.
            from lti_app import create_app

            return create_app()

    _Gunicorn().run()
