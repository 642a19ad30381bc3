"""Alembic migrations run upgrade -> downgrade -> upgrade on SQLite and on PostgreSQL, and the
migrated schema matches the models (no pending autogenerate diff)."""
from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from lti_app import create_app
from lti_app.extensions import db


def _roundtrip(app):
    with app.app_context():
        upgrade()
        tables = set(sa.inspect(db.engine).get_table_names())
        assert {"platforms", "deployments", "courses", "users", "course_roles",
                "resource_links", "alembic_version"} <= tables
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
        assert diff == [], f"models and migrations disagree: {diff}"
        downgrade(revision="base")
        assert set(sa.inspect(db.engine).get_table_names()) <= {"alembic_version"}
        upgrade()
        assert "platforms" in sa.inspect(db.engine).get_table_names()
        db.engine.dispose()


def test_migrations_sqlite(tmp_path):
    _roundtrip(create_app(env="test", data_dir=str(tmp_path), secret_key="x",
                          database_url=f"sqlite:///{tmp_path / 'm.db'}"))


@pytest.mark.postgres
def test_migrations_postgres(tmp_path, postgres_url):
    _roundtrip(create_app(env="test", data_dir=str(tmp_path), secret_key="x", database_url=postgres_url))
