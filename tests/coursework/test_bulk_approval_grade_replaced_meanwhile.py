"""A bulk approval ("Approve the ticked proposals") whose grades are sent to the LMS at once, while a
TA grades one of those essays on the grading page as its approved grade's post waits on the LMS:
the TA's newer grade is the essay's grade and the one the LMS keeps, so the teacher's notice must
not count the approved one as sent ("2 grades sent"), and says what happened (`lms_sync.Resent`).

Made reproducible without a clock: the peer LMS, on receiving the first score, first lets the TA
save (and so post) a newer grade of the essay being posted (`before_first_score_answered`)."""
from __future__ import annotations

import html

from lti_app.extensions import db
from lti_app.models import AiProposal, Grade, Submission, User
from tests.coursework.flows import COURSE, before_first_score_answered, grade_page_for, open_assignment, post_form
from tests.coursework.test_bulk_approval_essay_deleted_meanwhile import STUDENTS, _queue_with_proposals


def _approve_all_while_the_ta_grades(lms, tool, students: dict):
    """(the teacher's page after approving every proposal, the LMS user id of the essay the TA graded
    while its approved grade was on its way)."""
    teacher, queue = _queue_with_proposals(lms, tool, students)
    ta, ta_listing = open_assignment(lms, tool, role="TeachingAssistant", user_id="ta-1",
                                     resource_link_id=lms.deep_link_items(COURSE)[-1]["resource_link_id"])
    with tool.app.app_context():
        ticked = [str(p) for p in db.session.scalars(db.select(AiProposal.id))]

    def ta_grades_the_essay_being_posted():
        with tool.app.app_context():
            writer = db.session.scalar(db.select(User).join(Submission, Submission.user_id == User.id)
                                       .join(Grade, Grade.submission_id == Submission.id)
                                       .where(Grade.post_claimed_at.is_not(None)))
            name, sub = writer.name, writer.sub
        post_form(ta, grade_page_for(ta, ta_listing, name), {"score": "5", "comment": "Actually strong."},
                  action_contains="/essays/")
        return sub

    with before_first_score_answered(lms, ta_grades_the_essay_being_posted) as graded:
        answer = post_form(teacher, queue, {"proposal": ticked}, action_contains="/approve")
    assert answer.status_code == 200, answer.text[:800]
    return html.unescape(answer.text), graded[0]


def test_a_grade_replaced_meanwhile_is_not_counted_as_sent(tool, make_peer):
    lms = make_peer(tool)
    words, graded = _approve_all_while_the_ta_grades(lms, tool, STUDENTS)
    assert "2 proposals approved." in words, words[:2000]
    assert "1 of 2 grades sent. 1 was replaced by a newer grade saved meanwhile" in words, words[:3000]
    assert "the one Gradeloop sends to the LMS gradebook" in words
    assert "2 grades sent to the LMS gradebook" not in words
    with tool.app.app_context():   # the approved grade of that essay is kept, not sent; the TA's is
        kept = db.session.scalars(db.select(Grade).join(Submission).join(User, Submission.user_id == User.id)
                                  .where(User.sub == graded).order_by(Grade.id)).all()
        assert [(g.comment, g.posted_at is not None) for g in kept] == [("Clear claim.", False),
                                                                       ("Actually strong.", True)]


def test_the_only_grade_replaced_meanwhile_says_the_newer_one_is_sent(tool, make_peer):
    lms = make_peer(tool)
    words, _ = _approve_all_while_the_ta_grades(lms, tool, {"student-1": "Ada Student"})
    assert "A newer grade for this essay was saved meanwhile" in words, words[:3000]
    assert "1 grade sent to the LMS gradebook" not in words and "The grade was not sent" not in words
