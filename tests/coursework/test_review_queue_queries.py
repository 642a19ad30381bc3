"""The review queue reads its proposals' students and current grades in a fixed number of queries,
however many proposals wait: a class of 150 essays once cost 3 queries per row (Flask test
client, fresh SQLite; statements counted with SQLAlchemy's `before_cursor_execute`)."""
from __future__ import annotations

import re

from sqlalchemy import event

from lti_app.extensions import db
from lti_app.models import AiProposal, CourseRole, Grade, GradeSource, Role, Submission, SubmissionStatus, User
from tests.coursework.helpers import login


def _add_students(app, world, count: int, *, start: int) -> None:
    """`count` more students, each with an essay waiting in the queue; every other one revised
    after a grade (so the "(revised)" mark has something to find)."""
    with app.app_context():
        for n in range(start, start + count):
            user = User(platform_id=world.platform, sub=f"extra-{n}", name=f"Extra Student {n}")
            db.session.add(user)
            db.session.flush()
            db.session.add(CourseRole(course_id=world.course_a, user_id=user.id, role=Role.LEARNER))
            essay = Submission(assignment_id=world.assignment_a, user_id=user.id, text=f"Essay number {n}.",
                               word_count=3, status=SubmissionStatus.SUBMITTED)
            db.session.add(essay)
            db.session.flush()
            if n % 2:
                db.session.add(Grade(submission_id=essay.id, score=3, source=GradeSource.TEACHER, score_min=1,
                                     score_max=6, essay_text="The earlier version."))
            db.session.add(AiProposal(submission_id=essay.id, score=4, trait_scores={}, confidence=0.5 + n / 1000,
                                      feedback="Good.", status="pending", unusual=[],
                                      essay_submitted_at=essay.submitted_at))
        db.session.commit()


def _queue_statements(app, world) -> tuple[int, str]:
    client = app.test_client()
    login(client, app, course_id=world.course_a, user_id=world.teacher_a, role=Role.INSTRUCTOR,
          platform_id=world.platform)
    statements = []
    with app.app_context():
        engine = db.engine

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    client.get(f"/review/a/{world.assignment_a}")   # fills the 30 s cache of platform origins (framing)
    event.listen(engine, "before_cursor_execute", count)
    try:
        page = client.get(f"/review/a/{world.assignment_a}").get_data(as_text=True)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return len(statements), page


def test_the_queue_costs_the_same_queries_for_3_or_30_proposals(app, world):
    _add_students(app, world, 3, start=0)
    few, page = _queue_statements(app, world)
    assert len(re.findall(r'<tr data-proposal=', page)) == 3
    _add_students(app, world, 27, start=3)
    many, page = _queue_statements(app, world)
    rows = re.findall(r'<tr data-proposal="\d+" role="row">.*?</tr>', page, re.S)
    assert len(rows) == 30
    assert many == few, f"{few} statements for 3 proposals, {many} for 30"
    # What the batched reads feed is still right: every name, and "(revised)" on exactly the revised.
    for n in range(30):
        row = next(r for r in rows if f"Extra Student {n}<" in r or f"Extra Student {n} " in r)
        assert ("(revised)" in row) == bool(n % 2), row
