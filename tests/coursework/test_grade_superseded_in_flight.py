"""Two grades of one essay on their way to the LMS at once (a teacher and a TA, two tabs, a teacher
correcting an AI grade the worker is sending): the older grade's post reaches the LMS after the
newer one's and is refused as older (409 on Moodle and the sandbox, 400 on Canvas). It must not be
sent again over the newer grade, which Gradeloop shows as current and sent, nor count as refused:
the LMS holds the newer grade, as it should (`gradebook._post_grade`).

Made reproducible without waiting on a clock: the peer LMS, on receiving the older grade's score,
first lets the newer grade be saved and posted (`newer_grade_first`)."""
from __future__ import annotations

import html
from datetime import datetime, timezone

import pytest

from lti_app.coursework.grade_in_lms import superseded_words
from lti_app.extensions import db
from lti_app.lms.gradebook import SKIPPED, process_sync
from lti_app.models import Grade, GradeSource, Submission
from tests.coursework.flows import (before_first_score_answered, class_with_one_essay, grade_page_for, open_assignment,
                                    post_form, proposal_page)

ESSAY = "Homework should be optional, because rest helps students learn better the next day. " * 3
FAMILIES = [None, "moodle", "canvas"]   # the sandbox and Moodle refuse an older score with 409, Canvas with 400


def newer_grade_first(lms, save_newer):
    """The first grade post the LMS receives from now on waits while `save_newer()` saves a newer
    grade through the tool (and so posts it): the older grade arrives second, as over a slow LMS."""
    return before_first_score_answered(lms, save_newer)


def _held(lms, item) -> tuple[float, str]:
    [result] = lms.results(item["line_item_id"], "student-1")
    return round(result["resultScore"] / result["resultMaximum"] * 6, 4), result.get("comment")


def _grades(tool):
    with tool.app.app_context():
        return [(g.score, g.posted_at is not None, g.post_error, g.post_claimed_at)
                for g in db.session.scalars(db.select(Grade).order_by(Grade.id))]


@pytest.mark.parametrize("family", FAMILIES)
def test_an_older_grade_refused_as_older_is_not_sent_again_over_the_newer_one(tool, make_peer, family):
    lms = make_peer(tool, **({"product_family": family} if family else {}))
    item, teacher, listing = class_with_one_essay(lms, tool, ESSAY)
    ta, ta_listing = open_assignment(lms, tool, role="TeachingAssistant", user_id="ta-1",
                                     resource_link_id=item["resource_link_id"])
    teacher_page = grade_page_for(teacher, listing, "Ada Student")

    def ta_raises_it():   # the TA opens the essay after the teacher's save and raises the grade
        return post_form(ta, grade_page_for(ta, ta_listing, "Ada Student"),
                         {"score": "5", "comment": "Actually strong."}, action_contains="/essays/")

    with newer_grade_first(lms, ta_raises_it) as ta_answer:
        teacher_answer = post_form(teacher, teacher_page, {"score": "2", "comment": "Thin."},
                                   action_contains="/essays/")

    assert _held(lms, item) == (5, "Actually strong."), "the superseded grade replaced the newer one in the LMS"
    assert "Thin." not in [s.get("comment") for s in lms.scores(item["line_item_id"])]
    assert "Grade saved and sent to the LMS gradebook." in ta_answer[0].text
    # The superseded grade is neither sent nor refused: the page says what happened, calmly.
    assert _grades(tool) == [(2, False, None, None), (5, True, None, None)]
    assert "did not take it" not in teacher_answer.text and "sent to the LMS gradebook." not in teacher_answer.text
    assert superseded_words("saved", to_lms=True) in html.unescape(teacher_answer.text)
    assert "Earlier grades (1)" in teacher_answer.text   # where the page says the teacher's grade is kept


def test_the_worker_does_not_send_an_ai_grade_the_teacher_corrected_on_its_way(tool, make_peer):
    """An auto-released AI grade the worker is sending while the teacher corrects it: the worker's
    post, refused as older, ends as done (no retry, no error), and the LMS keeps the teacher's."""
    lms = make_peer(tool, product_family="moodle")
    item, teacher, listing = class_with_one_essay(lms, tool, ESSAY)
    with tool.app.app_context():
        submission = db.session.scalar(db.select(Submission))
        ai = Grade(submission_id=submission.id, score=3, score_min=1, score_max=6, comment="Fair points.",
                   source=GradeSource.AI_AUTO, created_at=datetime.now(timezone.utc))
        db.session.add(ai)
        db.session.commit()
        ai_id = ai.id
    page = grade_page_for(teacher, listing, "Ada Student")

    def teacher_corrects_it():
        return post_form(teacher, page, {"score": "4", "comment": "Good points, well argued."},
                         action_contains="/essays/")

    with tool.app.app_context(), newer_grade_first(lms, teacher_corrects_it):
        assert process_sync({"grade_id": ai_id}) == SKIPPED   # what the worker runs for the grade's event

    assert _held(lms, item) == (4, "Good points, well argued.")
    assert _grades(tool) == [(3, False, None, None), (4, True, None, None)]
    with tool.app.app_context():   # a later delivery of the same event leaves it so
        assert process_sync({"grade_id": ai_id}) == SKIPPED
    assert _held(lms, item) == (4, "Good points, well argued.")


@pytest.mark.parametrize("family", ["moodle", "canvas"])
def test_an_approval_superseded_on_its_way_says_so(tool, make_peer, family):
    """The teacher approves the AI proposal while the TA grades the essay: the review queue must not
    say the approved grade was sent (nor that the LMS refused it); the TA's grade is in the LMS."""
    lms = make_peer(tool, product_family=family)
    item, teacher, listing = class_with_one_essay(lms, tool, ESSAY)
    review = proposal_page(tool, teacher, score=3)
    ta, ta_listing = open_assignment(lms, tool, role="TeachingAssistant", user_id="ta-1",
                                     resource_link_id=item["resource_link_id"])

    def ta_grades_it():
        return post_form(ta, grade_page_for(ta, ta_listing, "Ada Student"),
                         {"score": "5", "comment": "Actually strong."}, action_contains="/essays/")

    with newer_grade_first(lms, ta_grades_it):
        queue = post_form(teacher, review, {"action": "approve"}, action_contains="/p/")

    assert _held(lms, item) == (5, "Actually strong.")
    page = html.unescape(queue.text)
    assert superseded_words("approved", to_lms=True) in page
    assert "sent to the student and the LMS gradebook" not in page and "did not take it" not in page
