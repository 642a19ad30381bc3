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


def test_sqlite_rebuilds_keep_child_rows(tmp_path):
    """SQLite enforces foreign keys (extensions._sqlite_pragmas), and Alembic's batch mode
    rebuilds a table by dropping it: without foreign keys off during migrations, going down
    past 0007 (which rebuilds `assignments` and `grades`) would cascade-delete every
    submission and grade of the school."""
    from lti_app.models import Assignment, Course, Grade, GradeSource, Platform, Submission

    app = create_app(env="test", data_dir=str(tmp_path), secret_key="x",
                     database_url=f"sqlite:///{tmp_path / 'fk.db'}")
    with app.app_context():
        upgrade()
        platform = Platform(issuer="https://lms.example", client_id="c",
                            auth_login_url="https://lms.example/login",
                            auth_token_url="https://lms.example/token",
                            key_set_url="https://lms.example/jwks")
        db.session.add(platform)
        db.session.flush()
        course = Course(platform_id=platform.id, context_id="ctx")
        db.session.add(course)
        db.session.flush()
        assignment = Assignment(course_id=course.id, title="Essay")
        db.session.add(assignment)
        db.session.flush()
        submission = Submission(assignment_id=assignment.id, text="An essay.")
        db.session.add(submission)
        db.session.flush()
        db.session.add(Grade(submission_id=submission.id, score=4, source=GradeSource.TEACHER,
                             score_min=1, score_max=6))
        db.session.commit()

        def counts():
            with db.engine.connect() as conn:
                return [conn.exec_driver_sql(f"SELECT count(*) FROM {t}").scalar()
                        for t in ("assignments", "submissions", "grades")]

        assert counts() == [1, 1, 1]
        downgrade(revision="0006_proposal_essay_version")
        assert counts() == [1, 1, 1]
        upgrade()
        assert counts() == [1, 1, 1]
        with db.engine.connect() as conn:   # and the app's own connections enforce them again
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        db.engine.dispose()


def test_sqlite_upgrade_names_orphan_rows(tmp_path, capsys):
    """Rows an older release left behind (SQLite did not enforce foreign keys then) are named
    when the database is upgraded, so the administrator learns of them."""
    app = create_app(env="test", data_dir=str(tmp_path), secret_key="x",
                     database_url=f"sqlite:///{tmp_path / 'orphans.db'}")
    with app.app_context():
        upgrade()
        downgrade(revision="0008_deep_link_answered")
        with db.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
            conn.exec_driver_sql(
                "INSERT INTO grades (submission_id, score, trait_scores, comment, source, score_min,"
                " score_max, created_at) VALUES (999, 4, '{}', '', 'TEACHER', 1, 6, '2026-01-01')")
            conn.commit()
            conn.invalidate()
        capsys.readouterr()
        upgrade()
        assert "Rows whose parent row is gone (left by an older release): grades 1" in capsys.readouterr().err
        db.engine.dispose()
