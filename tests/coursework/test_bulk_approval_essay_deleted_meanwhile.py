"""A bulk approval ("Approve the ticked proposals") whose grades are sent to the LMS at once, while
one student's data is erased as their grade's post waits on the LMS: the teacher's notice counts
that grade as not sent, and says why (`lms_sync.Resent`), instead of "2 grades sent".

Made reproducible without a clock: the peer LMS, on receiving the first score, first erases the
student whose grade is being posted, through the tool's own code (`before_first_score_answered`)."""
from __future__ import annotations

import html

from lti_app.erasure import erase_user
from lti_app.extensions import db
from lti_app.coursework.data_admin import delete_course_data
from lti_app.models import AiProposal, Assignment, Grade, Submission, User
from tests.coursework.flows import (before_first_score_answered, create_by_deep_link, open_assignment, post_form,
                                    submit_essay)

ESSAY = "Homework should be optional, because rest helps students learn better the next day. " * 3
STUDENTS = {"student-1": "Ada Student", "student-2": "Bo Student"}


def _queue_with_proposals(lms, tool, students: dict):
    """Each of `students` handed in, each essay has a pending AI proposal; the teacher's review queue."""
    item = create_by_deep_link(lms, tool)
    for user_id, name in students.items():
        submit_essay(lms, tool, item["resource_link_id"], user_id, ESSAY, name=name)
    teacher, _ = open_assignment(lms, tool, role="Instructor", user_id="teacher-1",
                                 resource_link_id=item["resource_link_id"])
    with tool.app.app_context():
        for submission in db.session.scalars(db.select(Submission).order_by(Submission.id)):
            db.session.add(AiProposal(submission_id=submission.id, score=4, trait_scores={}, confidence=0.9,
                                      feedback="Clear claim.", status="pending", unusual=[],
                                      essay_submitted_at=submission.submitted_at))
        db.session.commit()
        assignment_id = submission.assignment_id
    return teacher, teacher.get(f"{tool.url}/review/a/{assignment_id}", timeout=30)


def erase_the_student_being_posted(tool):
    """Erase the student whose grade holds a post claim: the one the LMS is receiving now."""
    with tool.app.app_context():
        submission = db.session.scalar(db.select(Submission).join(Grade, Grade.submission_id == Submission.id)
                                       .where(Grade.post_claimed_at.is_not(None)))
        erase_user(db.session.get(User, submission.user_id))


def delete_the_course(tool):
    """The course's data deleted (an admin's or a teacher's "Delete course data") meanwhile."""
    with tool.app.app_context():
        delete_course_data(db.session.scalar(db.select(Assignment.course_id)))


def _approve_all(lms, tool, teacher, queue, meanwhile=erase_the_student_being_posted):
    with tool.app.app_context():
        ticked = [str(p) for p in db.session.scalars(db.select(AiProposal.id))]
    with before_first_score_answered(lms, lambda: meanwhile(tool)):
        answer = post_form(teacher, queue, {"proposal": ticked}, action_contains="/approve")
    assert answer.status_code == 200, answer.text[:800]
    return html.unescape(answer.text)


def test_a_grade_whose_essay_was_erased_meanwhile_is_not_counted_as_sent(tool, make_peer):
    lms = make_peer(tool)
    teacher, queue = _queue_with_proposals(lms, tool, STUDENTS)
    words = _approve_all(lms, tool, teacher, queue)
    assert "2 proposals approved." in words, words[:2000]
    assert "1 of 2 grades sent. 1 was not sent: its essay was deleted while on the way" in words, words[:3000]
    assert "2 grades sent to the LMS gradebook" not in words
    with tool.app.app_context():   # the other student's grade went out, and only it is left
        assert [g.posted_at is not None for g in db.session.scalars(db.select(Grade))] == [True]


def test_the_only_grade_erased_meanwhile_is_not_sent(tool, make_peer):
    lms = make_peer(tool)
    teacher, queue = _queue_with_proposals(lms, tool, {"student-1": "Ada Student"})
    words = _approve_all(lms, tool, teacher, queue)
    assert "The grade was not sent. Its essay was deleted while it was being sent" in words, words[:3000]
    assert "1 grade sent to the LMS gradebook" not in words
    with tool.app.app_context():
        assert db.session.scalar(db.select(db.func.count(Grade.id))) == 0


def test_a_course_deleted_meanwhile_lands_the_teacher_on_the_course_page(tool, make_peer):
    """Not on the queue of an assignment that no longer exists (a 404)."""
    lms = make_peer(tool)
    teacher, queue = _queue_with_proposals(lms, tool, STUDENTS)
    words = _approve_all(lms, tool, teacher, queue, meanwhile=delete_the_course)
    assert "was deleted" in words and "Review queue" not in words, words[:3000]
    with tool.app.app_context():
        assert db.session.scalar(db.select(db.func.count(Grade.id))) == 0
