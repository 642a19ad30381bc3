"""Migration 0011 strips the custom parameters Gradeloop does not read from resource links stored
before it (the last launcher's Canvas login id among them), on SQLite and on PostgreSQL."""
from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from lti_app import create_app
from lti_app.extensions import db
from lti_app.models import ResourceLink
from tests.e2e.conftest import scratch_postgres
from tests.worker.coursework import make_assignment_row

BEFORE = "0010_lms_post_claims"
STORED = {   # resource_link_id: (custom before, custom after)
    "rl-canvas": ({"gradeloop_assignment": "gl-1", "canvas_user_login_id": "s1234567",
                   "canvas_course_id": "4711"}, {"gradeloop_assignment": "gl-1"}),
    "rl-moodle": ({"student_number": "s7654321", "email": "ann@school.example"}, None),
    "rl-ours": ({"gradeloop_assignment": "gl-2"}, {"gradeloop_assignment": "gl-2"}),
    "rl-none": (None, None),
}


def _links_after_upgrade(app) -> dict:
    with app.app_context():
        upgrade(revision=BEFORE)
        course_id = make_assignment_row().course_id   # the assignments table as 0010 has it
        db.session.add_all(ResourceLink(course_id=course_id, resource_link_id=name, custom=before)
                           for name, (before, _) in STORED.items())
        db.session.commit()
        upgrade()
        with db.engine.connect() as conn:
            table = ResourceLink.__table__
            links = dict(conn.execute(sa.select(table.c.resource_link_id, table.c.custom)).all())
            raw = repr(conn.exec_driver_sql("SELECT * FROM resource_links").all())
            emptied = conn.exec_driver_sql("SELECT count(*) FROM resource_links WHERE custom IS NULL"
                                           " AND resource_link_id = 'rl-moodle'").scalar()
        downgrade(revision=BEFORE)   # a no-op: nothing comes back, nothing fails
        db.engine.dispose()
    assert "s1234567" not in raw and "s7654321" not in raw and "ann@school.example" not in raw
    assert emptied == 1   # SQL NULL, as a launch without parameters leaves it
    return links


def test_migration_keeps_only_read_custom_params_sqlite(tmp_path):
    app = create_app(env="test", data_dir=str(tmp_path), secret_key="x",
                     database_url=f"sqlite:///{tmp_path / 'm.db'}")
    assert _links_after_upgrade(app) == {name: after for name, (_, after) in STORED.items()}


@pytest.mark.postgres
def test_migration_keeps_only_read_custom_params_postgres(tmp_path, postgres_url):
    # A database of its own: the session's one is at head already, where upgrading to 0010 does nothing.
    with scratch_postgres(postgres_url) as url:
        app = create_app(env="test", data_dir=str(tmp_path), secret_key="x", database_url=url)
        assert _links_after_upgrade(app) == {name: after for name, (_, after) in STORED.items()}
