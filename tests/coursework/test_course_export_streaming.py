"""The course CSV export is streamed as it is read, one query per assignment: it once read each
essay's grade with a query of its own and built the whole file in memory (a course of 1,000 long
essays took 500 MB). Should the database fail once part of the file is sent, the file says in its
last row that it is incomplete and the download breaks off. On SQLite and PostgreSQL."""
from __future__ import annotations

import csv
import io
import logging
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import event
from sqlalchemy.exc import OperationalError

from lti_app.coursework import csv_io
from lti_app.coursework.csv_io import CsvProblem, parse_import
from lti_app.extensions import db
from lti_app.models import Assignment, Grade, GradeSource, Role, Submission, SubmissionStatus
from tests.coursework.big_class import add_students, statements_of
from tests.coursework.helpers import build_world, login

URL = "/coursework/course/export.csv"


def _records(body: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(body.lstrip("\ufeff"))))


def test_the_export_is_streamed_with_the_same_statements_for_3_or_30_essays(locking_app):
    app = locking_app
    world = build_world(app)
    add_students(app, world, 3, start=0)
    few, _ = statements_of(app, world, URL)
    add_students(app, world, 27, start=3)
    with app.app_context():
        # Two grades on one essay, the later one with the lower id (a grade dated by an import):
        # the current grade is the latest, as the essay's own page says.
        essay = db.session.scalar(db.select(Submission.id).join(Grade, Grade.submission_id == Submission.id)
                                  .where(Submission.status == SubmissionStatus.GRADED).order_by(Submission.id))
        newest = db.session.scalar(db.select(Grade).filter_by(submission_id=essay))
        newest.created_at, newest.score = datetime.now(timezone.utc) + timedelta(hours=1), 6
        db.session.add(Grade(submission_id=essay, score=2, source=GradeSource.TEACHER, score_min=1, score_max=6))
        db.session.commit()
    many, response = statements_of(app, world, URL)
    assert len(many) == len(few), f"{len(few)} statements for 3 essays, {len(many)} for 30"
    client = app.test_client()
    login(client, app, course_id=world.course_a, user_id=world.teacher_a, role=Role.INSTRUCTOR,
          platform_id=world.platform)
    streamed = client.get(URL)
    assert streamed.is_streamed, "written as it is read, not built whole first"
    assert streamed.get_data(as_text=True) == response.get_data(as_text=True)

    body = response.get_data(as_text=True)
    assert body.startswith("\ufeffassignment,assignment_id,essay_id,student,")
    records = _records(body)
    assert len(records) == 1 + 30 + 10   # Student1 A's essay, the class, and a second row per revised essay
    assert [r["score"] for r in records if r["essay_id"] == str(essay)] == ["6"]
    for n in range(30):
        mine = [r for r in records if r["student"] == f"Big Student {n}"]
        if n % 3 == 1:
            assert [(r["status"], r["score"]) for r in mine] == [("graded, then revised", "3"), ("submitted", "")]
            assert mine[0]["text"] == f"The earlier version {n}." and mine[1]["text"] == f"Essay {n}. " * 40
        else:
            assert [r["status"] for r in mine] == ["graded" if n % 3 == 0 else "submitted"]


def _downloaded_while_the_database_fails(client, engine, caplog, *, on_read: int) -> str:
    """What the browser receives of the export when the database fails at its `on_read`-th read of
    essays (the download is broken off with the error)."""
    reads, received = [], []

    def database_gone(conn, cursor, statement, parameters, context, executemany):
        if "FROM submissions" in statement:
            reads.append(statement)
            if len(reads) == on_read:
                raise OperationalError(statement, parameters, Exception("server closed the connection"))

    event.listen(engine, "before_cursor_execute", database_gone)
    try:
        with caplog.at_level(logging.ERROR, logger="lti_app.coursework.data_admin"), \
                pytest.raises(OperationalError):
            response = client.get(URL, buffered=False)
            assert response.status_code == 200
            for piece in response.response:
                received.append(piece)
    finally:
        event.remove(engine, "before_cursor_execute", database_gone)
    return b"".join(received).decode("utf-8")


def test_an_export_broken_off_says_so_in_its_last_row(locking_app, caplog):
    app = locking_app
    world = build_world(app)
    with app.app_context():
        db.session.add(Assignment(course_id=world.course_a, title="Second essay", prompt="Argue.", score_min=1,
                                  score_max=6, resource_id="res-second"))
        db.session.commit()
    # More than one piece of the file (csv_io.CHUNK_CHARS) before the second assignment's essays.
    add_students(app, world, 30, start=0)
    with app.app_context():
        for essay in db.session.scalars(db.select(Submission)):
            essay.text = "A long essay. " * (csv_io.CHUNK_CHARS // 14 // 20)
        db.session.commit()
        engine = db.engine
    client = app.test_client()
    login(client, app, course_id=world.course_a, user_id=world.teacher_a, role=Role.INSTRUCTOR,
          platform_id=world.platform)
    body = _downloaded_while_the_database_fails(client, engine, caplog, on_read=2)   # the second assignment's
    assert "event=export_failed" in caplog.text
    records = _records(body)
    assert {r["assignment"] for r in records[:-1]} == {"Essay a"} and len(records) > 1
    assert records[-1]["assignment"].startswith("INCOMPLETE: Gradeloop could not read the rest")
    with app.app_context():   # the part cannot be imported as if it were the whole file
        with pytest.raises(CsvProblem, match="course export that was cut short"):
            parse_import(body.encode("utf-8"), db.session.get(Assignment, world.assignment_a), max_chars=100_000)


def test_an_export_that_fails_before_anything_is_sent_says_so_too(locking_app, caplog):
    """A course's export is usually one piece (under csv_io.CHUNK_CHARS): a failure before it is
    sent still ends the download on the INCOMPLETE row, not on the web server's bare 500 page."""
    app = locking_app
    world = build_world(app)
    client = app.test_client()
    login(client, app, course_id=world.course_a, user_id=world.teacher_a, role=Role.INSTRUCTOR,
          platform_id=world.platform)
    with app.app_context():
        engine = db.engine
    body = _downloaded_while_the_database_fails(client, engine, caplog, on_read=1)
    assert "part_sent=False" in caplog.text
    assert body.startswith('"INCOMPLETE: Gradeloop could not read the rest')
