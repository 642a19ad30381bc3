"""Builders for the rows the worker's handlers read: a course, an assignment, graded essays."""
from __future__ import annotations

import uuid
from types import SimpleNamespace
from datetime import timedelta

import sqlalchemy as sa

from lti_app.extensions import db
from lti_app.models import Assignment, Course, Grade, GradeSource, ModelVersion, Platform, Submission, User
from lti_app.models.base import utcnow


def _course() -> Course:
    """A course of a platform of its own (flushed)."""
    platform = Platform(issuer=f"https://lms{uuid.uuid4().hex[:8]}.example", client_id="c1", auth_login_url="https://lms.example/a",
                        auth_token_url="https://lms.example/t", key_set_url="https://lms.example/k")
    db.session.add(platform)
    db.session.flush()
    course = Course(platform_id=platform.id, context_id=f"ctx-{platform.id}", title="Essays 101")
    db.session.add(course)
    db.session.flush()
    return course


def make_assignment(**settings) -> Assignment:
    course = _course()
    assignment = Assignment(course_id=course.id, **{"title": "Persuasive essay", **settings})
    db.session.add(assignment)
    db.session.commit()
    return assignment


def make_assignment_row() -> SimpleNamespace:
    """`make_assignment` for a migration test whose database is at an older revision than the models:
    the assignment is written with the columns of the first schema only (every column added since
    has a server default), so a column a later release adds does not break the test. (id, course_id)."""
    course = _course()
    assignment_id = db.session.execute(sa.text(
        "INSERT INTO assignments (course_id, title, prompt, score_min, score_max, traits, resource_id, feedback_mode,"
        " min_graded, retrain_every, confidence_threshold, show_ai_label, allow_resubmit, created_at)"
        " VALUES (:c, 'Persuasive essay', '', 1, 6, '[]', :r, 'OFF', 30, 20, 0.8, true, true, :now) RETURNING id"),
        {"c": course.id, "r": uuid.uuid4().hex, "now": utcnow()}).scalar()
    db.session.commit()
    return SimpleNamespace(id=assignment_id, course_id=course.id)


def add_graded(assignment: Assignment, n: int, source=GradeSource.TEACHER, age: timedelta = timedelta(0)) -> list[Grade]:
    grades = []
    for i in range(n):
        user = User(platform_id=assignment.course.platform_id, sub=f"s-{assignment.id}-{utcnow().timestamp()}-{i}")
        db.session.add(user)
        db.session.flush()
        sub = Submission(assignment_id=assignment.id, user_id=user.id, text=f"essay {i} " * 50, word_count=100)
        db.session.add(sub)
        db.session.flush()
        grade = Grade(submission_id=sub.id, score=3, source=source, score_min=1, score_max=6,
                      created_at=utcnow() - age)
        db.session.add(grade)
        grades.append(grade)
    db.session.commit()
    return grades


def put_model_in_service(assignment: Assignment) -> ModelVersion:
    """A promoted version 1 serving `assignment` (no files behind it: for due/not-due decisions)."""
    mv = ModelVersion(assignment_id=assignment.id, version=1, status="promoted", approach="frozen-ridge",
                      path="/x/v1", onnx_path="/x/v1/model.onnx", metrics={}, gate={})
    db.session.add(mv)
    db.session.flush()
    assignment.current_model_id = mv.id
    db.session.commit()
    return mv


def add_essays(assignment_id, essays, source=GradeSource.TEACHER) -> list[int]:
    """Submissions of `essays` [(text, score or None)]; a score is a grade of `source` on 1-6."""
    ids = []
    for text, score in essays:
        sub = Submission(assignment_id=assignment_id, text=text, word_count=len(text.split()))
        db.session.add(sub)
        db.session.flush()
        if score is not None:
            db.session.add(Grade(submission_id=sub.id, score=score, source=source, score_min=1, score_max=6))
        ids.append(sub.id)
    db.session.commit()
    return ids


def two_students_and_a_teacher(assignment: Assignment, essay: str) -> tuple[Submission, Submission, User]:
    """Ada's essay `essay` and Bo's (the same, one word longer) in `assignment`, and their teacher
    (users "ada", "bo", "teacher"): (Ada's submission, Bo's, the teacher)."""
    ada, bo, teacher = (User(platform_id=assignment.course.platform_id, sub=s) for s in ("ada", "bo", "teacher"))
    db.session.add_all([ada, bo, teacher])
    db.session.flush()
    n = len(essay.split())
    first = Submission(assignment_id=assignment.id, user_id=ada.id, text=essay, word_count=n)
    second = Submission(assignment_id=assignment.id, user_id=bo.id, text=essay + " Mine.", word_count=n + 1)
    db.session.add_all([first, second])
    db.session.flush()
    return first, second, teacher
