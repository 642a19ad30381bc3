"""`gradebook.unposted_grades`: which grades the LMS still lacks (what "resend" and a bulk approval
push), in a fixed number of queries however many grades the class has (Flask app, fresh SQLite)."""
from __future__ import annotations

from sqlalchemy import event

from lti_app.extensions import db
from lti_app.lms import gradebook
from lti_app.models import CourseRole, Grade, GradeSource, Role, Submission, SubmissionStatus, User
from lti_app.models.base import utcnow


def _grade(submission_id: int, score: float, posted: bool = False) -> Grade:
    grade = Grade(submission_id=submission_id, score=score, source=GradeSource.TEACHER, score_min=1, score_max=6,
                  posted_at=utcnow() if posted else None)
    db.session.add(grade)
    db.session.flush()
    return grade


def _essay(assignment_id: int, user_id: int | None) -> int:
    sub = Submission(assignment_id=assignment_id, user_id=user_id, text="An essay.", word_count=2,
                     status=SubmissionStatus.GRADED)
    db.session.add(sub)
    db.session.flush()
    return sub.id


def test_only_current_unposted_grades_of_students_count(app, world):
    with app.app_context():
        a = world.assignment_a
        _grade(world.essay_a, 2, posted=True)
        newer = _grade(world.essay_a, 3)                       # current, not in the LMS yet
        second = _essay(a, world.student2_a)
        _grade(second, 4)
        _grade(second, 5, posted=True)                         # current grade already posted
        own = _grade(_essay(a, world.teacher_a), 6)            # a teacher's test essay: Moodle refuses it
        imported = _grade(_essay(a, None), 4)                  # no LMS user
        other_course = _grade(world.essay_b, 1)
        db.session.commit()
        assert [g.id for g in gradebook.unposted_grades(a)] == [newer.id]
        assert own.id and imported.id and other_course.id
        assert [g.id for g in gradebook.unposted_grades(world.assignment_b)] == [other_course.id]


def test_the_number_of_queries_does_not_grow_with_the_class(app, world):
    with app.app_context():
        for _ in range(30):
            _grade(_essay(world.assignment_a, None), 3)          # imported essays: never posted
        students = []
        for i in range(30):
            user = User(platform_id=world.platform, sub=f"s{i}", name=f"S{i}")
            db.session.add(user)
            db.session.flush()
            db.session.add(CourseRole(course_id=world.course_a, user_id=user.id, role=Role.LEARNER))
            students.append(_grade(_essay(world.assignment_a, user.id), 4).id)
        db.session.commit()
        db.session.expire_all()
        statements = []

        def count(_conn, _cursor, statement, *_args):
            statements.append(statement)

        event.listen(db.engine, "before_cursor_execute", count)
        try:
            found = gradebook.unposted_grades(world.assignment_a)
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        assert [g.id for g in found] == students
        assert len(statements) <= 3, statements
