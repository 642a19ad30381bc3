"""An essay deleted while its grade is on its way to the LMS: the student erased (`gradeloop privacy
erase-user`) or the course's data deleted while the score post waits on the LMS. When the LMS
answers, the grade, the essay (and the assignment) are gone: the grader is told so on a page that
works, nothing of the essay is stored again, and the worker's delivery of the same grade ends
instead of failing and being retried (`gradebook.push_grade`).

Made reproducible without waiting on a clock: the peer LMS, on receiving the score, first runs the
deletion through the tool's own code (`deleted_while_posting`)."""
from __future__ import annotations

import html
from urllib.parse import urlsplit

import pytest

from lti_app.coursework.data_admin import delete_course_data
from lti_app.erasure import erase_user
from lti_app.extensions import db
from lti_app.lms.gradebook import SKIPPED, process_sync
from lti_app.models import Assignment, Course, Grade, GradeSource, Submission, User
from tests.coursework.flows import (before_first_score_answered, class_with_one_essay, grade_page_for, post_form,
                                    proposal_page)

ESSAY = "Homework should be optional, because rest helps students learn better the next day. " * 3


def erase_the_student(tool):
    with tool.app.app_context():
        erase_user(db.session.scalar(db.select(User).filter_by(sub="student-1")))


def delete_the_course_data(tool):
    with tool.app.app_context():
        delete_course_data(db.session.scalar(db.select(Course.id)))


DELETIONS = [erase_the_student, delete_the_course_data]


def deleted_while_posting(lms, delete, refuse: int | None = None):
    """The first score post the LMS receives from now on runs `delete()` before the LMS answers it
    (as usual, or with HTTP `refuse`)."""
    return before_first_score_answered(lms, delete, refuse)


def _nothing_left(tool):
    with tool.app.app_context():
        assert db.session.scalar(db.select(db.func.count(Grade.id))) == 0
        assert db.session.scalar(db.select(db.func.count(Submission.id))) == 0


@pytest.mark.parametrize("delete", DELETIONS)
@pytest.mark.parametrize("refuse", [None, 400])
def test_the_grader_is_told_the_essay_was_deleted_meanwhile(tool, make_peer, delete, refuse):
    lms = make_peer(tool)
    item, teacher, listing = class_with_one_essay(lms, tool, ESSAY)
    page = grade_page_for(teacher, listing, "Ada Student")
    with deleted_while_posting(lms, lambda: delete(tool), refuse):
        answer = post_form(teacher, page, {"score": "4", "comment": "Good points."}, action_contains="/essays/")
    assert answer.status_code == 200, answer.text[:800]
    words = html.unescape(answer.text)
    assert "deleted while its grade was being sent to the LMS" in words, words[:2000]
    assert "Grade saved and sent" not in words and "did not take it" not in words
    _nothing_left(tool)
    with tool.app.app_context():   # the assignment's list, or the course's page once it is gone too
        assignment_id = db.session.scalar(db.select(Assignment.id))
    assert urlsplit(answer.url).path == (f"/coursework/a/{assignment_id}" if assignment_id else "/coursework/course")


@pytest.mark.parametrize("delete", DELETIONS)
@pytest.mark.parametrize("refuse", [None, 400])
def test_the_worker_ends_a_grade_whose_essay_was_deleted_meanwhile(tool, make_peer, delete, refuse):
    lms = make_peer(tool)
    class_with_one_essay(lms, tool, ESSAY)
    with tool.app.app_context():
        submission = db.session.scalar(db.select(Submission))
        ai = Grade(submission_id=submission.id, score=3, score_min=1, score_max=6, comment="Fair points.",
                   source=GradeSource.AI_AUTO)
        db.session.add(ai)
        db.session.commit()
        grade_id = ai.id
    with tool.app.app_context(), deleted_while_posting(lms, lambda: delete(tool), refuse):
        assert process_sync({"grade_id": grade_id}) == SKIPPED   # what the worker runs for the grade's event
    _nothing_left(tool)
    with tool.app.app_context():   # a later delivery of the same event ends the same way
        assert process_sync({"grade_id": grade_id}) == SKIPPED


@pytest.mark.parametrize("delete", DELETIONS)
def test_the_teacher_approving_the_ai_grade_is_told_the_essay_was_deleted_meanwhile(tool, make_peer, delete):
    lms = make_peer(tool)
    _, teacher, _ = class_with_one_essay(lms, tool, ESSAY)
    review = proposal_page(tool, teacher, score=4)
    with deleted_while_posting(lms, lambda: delete(tool)):
        answer = post_form(teacher, review, {"action": "approve"}, action_contains="/p/")
    assert answer.status_code == 200, answer.text[:800]
    assert "deleted while its grade was being sent to the LMS" in html.unescape(answer.text)
    _nothing_left(tool)
