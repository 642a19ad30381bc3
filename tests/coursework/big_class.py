"""A class that grows (students with essays in every state a teacher's pages list) and the SQL
statements one page costs, counted with SQLAlchemy's `before_cursor_execute`: the pages that list
a class must cost as many statements for 3 essays as for 30."""
from __future__ import annotations

from sqlalchemy import event

from lti_app.extensions import db
from lti_app.models import (AiProposal, CourseRole, DeadLetter, Grade, GradeSource, Role, Submission,
                            SubmissionStatus, User)
from tests.coursework.helpers import login


def add_students(app, world, count: int, *, start: int) -> None:
    """`count` more students of course A, each with an essay of assignment A. Of every three: one
    graded (its gradebook update failed for good: the LMS was down at the deadline), one revised
    after a grade (the grade is the earlier version's), one with an AI proposal waiting."""
    with app.app_context():
        for n in range(start, start + count):
            user = User(platform_id=world.platform, sub=f"big-{n}", name=f"Big Student {n}",
                        email=f"big{n}@school.example")
            db.session.add(user)
            db.session.flush()
            db.session.add(CourseRole(course_id=world.course_a, user_id=user.id, role=Role.LEARNER))
            kind = n % 3
            status = SubmissionStatus.GRADED if kind == 0 else SubmissionStatus.SUBMITTED
            essay = Submission(assignment_id=world.assignment_a, user_id=user.id, text=f"Essay {n}. " * 40,
                               word_count=80, status=status)
            db.session.add(essay)
            db.session.flush()
            if kind == 2:
                db.session.add(AiProposal(submission_id=essay.id, score=4, trait_scores={}, confidence=0.5,
                                          feedback="Good.", status="pending", unusual=[],
                                          essay_submitted_at=essay.submitted_at))
                continue
            grade = Grade(submission_id=essay.id, score=3, source=GradeSource.TEACHER, score_min=1, score_max=6,
                          grader_id=world.teacher_a, essay_text=f"The earlier version {n}." if kind == 1 else None)
            db.session.add(grade)
            db.session.flush()
            if kind == 0:
                db.session.add(DeadLetter(message_id=f"big-{n}", queue="gradeloop.gradebook", routing_key="gradebook",
                                          payload={"event_id": f"e-{n}", "type": "gradebook.sync",
                                                   "payload": {"assignment_id": world.assignment_a,
                                                               "grade_id": grade.id}},
                                          reason="LMS down", attempts=5, assignment_id=world.assignment_a))
        db.session.commit()


def statements_of(app, world, url: str) -> tuple[list[str], object]:
    """The statements the second request of `url` by course A's teacher runs (the first fills the
    per-process caches), and that response, read to its end."""
    client = app.test_client()
    login(client, app, course_id=world.course_a, user_id=world.teacher_a, role=Role.INSTRUCTOR,
          platform_id=world.platform)
    assert client.get(url).status_code == 200
    with app.app_context():
        engine = db.engine
    seen: list[str] = []

    def count(conn, cursor, statement, *args):
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        response = client.get(url)
        response.get_data()   # a streamed body runs its queries while it is read
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert response.status_code == 200
    return seen, response
