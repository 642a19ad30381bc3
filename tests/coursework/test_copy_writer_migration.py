"""Migration 0012 gives essays held without a student (course copies, CSV re-imports of an export)
the writer of the student's essay with the same text, or of the earlier version a grade kept, so
that erasing that person still finds them once the original is deleted. Essays whose text no
student's essay has keep no writer. On SQLite and on PostgreSQL."""
from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from lti_app import create_app
from lti_app.extensions import db
from lti_app.models import Course, User
from tests.e2e.conftest import scratch_postgres
from tests.worker.coursework import make_assignment_row

BEFORE = "0011_resource_link_custom_kept"
ADA, REVISED, FIRST = "Ada's essay, handed in.", "Bo's revised essay.", "Bo's first version, graded."


def _essay(conn, assignment_id: int, user_id: int | None, text: str) -> int:
    # The table as 0011 has it: the models describe the new column already.
    return conn.execute(sa.text(
        "INSERT INTO submissions (assignment_id, user_id, text, word_count, status, submitted_at, updated_at)"
        " VALUES (:a, :u, :t, 3, 'GRADED', :now, :now) RETURNING id"),
        {"a": assignment_id, "u": user_id, "t": text, "now": "2026-06-01 10:00:00+00:00"}).scalar()


def _writers_after_upgrade(app) -> dict:
    with app.app_context():
        upgrade(revision=BEFORE)
        original, later = make_assignment_row(), make_assignment_row()
        platform_id = db.session.get(Course, original.course_id).platform_id
        ada, bo = (User(platform_id=platform_id, sub=sub, name=name) for sub, name in (("s1", "Ada"), ("s2", "Bo")))
        db.session.add_all([ada, bo])
        db.session.commit()
        with db.engine.begin() as conn:
            _essay(conn, original.id, ada.id, ADA)
            revised = _essay(conn, original.id, bo.id, REVISED)   # its grade kept the version it was given on
            conn.execute(sa.text("INSERT INTO grades (submission_id, score, trait_scores, comment, source, score_min,"
                                 " score_max, created_at, essay_text) VALUES (:s, 4, '{}', '', 'TEACHER', 1, 6,"
                                 " '2026-06-01 10:00:00+00:00', :t)"), {"s": revised, "t": FIRST})
            for text in (ADA, FIRST, "An essay nobody here wrote."):
                _essay(conn, later.id, None, text)
        ids = {"ada": ada.id, "bo": bo.id}
        db.session.remove()   # its open read of `users` would hold off the new foreign key on PostgreSQL
        upgrade()
        with db.engine.connect() as conn:
            writers = dict(conn.execute(sa.text("SELECT text, source_user_id FROM submissions"
                                                " WHERE user_id IS NULL")).all())
        downgrade(revision=BEFORE)
        with db.engine.connect() as conn:
            assert "source_user_id" not in {c["name"] for c in sa.inspect(conn).get_columns("submissions")}
            assert conn.execute(sa.text("SELECT count(*) FROM submissions")).scalar() == 5
        db.engine.dispose()
    return {text: next((who for who, i in ids.items() if i == user_id), None) for text, user_id in writers.items()}


EXPECTED = {ADA: "ada", FIRST: "bo", "An essay nobody here wrote.": None}


def test_migration_links_copies_to_their_writers_sqlite(tmp_path):
    app = create_app(env="test", data_dir=str(tmp_path), secret_key="x",
                     database_url=f"sqlite:///{tmp_path / 'm.db'}")
    assert _writers_after_upgrade(app) == EXPECTED


@pytest.mark.postgres
def test_migration_links_copies_to_their_writers_postgres(tmp_path, postgres_url):
    with scratch_postgres(postgres_url) as url:
        app = create_app(env="test", data_dir=str(tmp_path), secret_key="x", database_url=url)
        assert _writers_after_upgrade(app) == EXPECTED
