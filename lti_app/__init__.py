"""Gradeloop web app: `create_app` builds the Flask app and wires each feature's blueprint."""
from __future__ import annotations

import logging

from flask import Flask

from config import Config, load_config


def create_app(config: Config | None = None, **overrides) -> Flask:
    """App factory. `overrides` go to `load_config` (tests pass database_url, data_dir, env...)."""
    cfg = config or load_config(**overrides)
    app = Flask(__name__, instance_path=str(cfg.data_dir))
    from lti_app import routing
    routing.init_app(app)   # before any blueprint adds an `<int:...>` rule
    app.config.from_mapping(cfg.as_flask())
    app.extensions["gradeloop_config"] = cfg
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    from lti_app import db_error_log
    db_error_log.install()   # no DETAIL values of a database error in the log (web and worker)

    from lti_app.extensions import db, migrate
    from lti_app import models  # noqa: F401  (registers tables)

    db.init_app(app)
    migrate.init_app(app, db, directory=_migrations_dir())

    from lti_app import front, health, path_prefix, timestamps, web_security
    path_prefix.init_app(app)
    health.init_app(app)
    front.init_app(app)
    web_security.init_app(app)
    timestamps.init_app(app)
    _register_features(app)
    return app


def _register_features(app: Flask) -> None:
    """Each feature package exposes `init_app(app)`; a missing one is simply not installed yet."""
    import importlib

    for name in FEATURES:
        module = importlib.import_module(name)
        module.init_app(app)


# Feature packages, in registration order. Each has `init_app(app)`.
FEATURES: list[str] = [
    "lti_app.lti",
    "lti_app.coursework",
    "lti_app.review",
    "lti_app.dashboard",
]


def _migrations_dir() -> str:
    from pathlib import Path

    return str(Path(__file__).resolve().parent.parent / "migrations")
