"""A hand-in Canvas took but answered after GRADELOOP_HTTP_TIMEOUT: Canvas counts every hand-in post
as a submission attempt, so the worker's retry first reads the student's result back, and does not
tell Canvas again when it shows this version's hand-in (the submission extension of the last score
it took, with the version's `submitted_at`: `held_score.holds_hand_in`). A hand-in Canvas did not
take is told again."""
from __future__ import annotations

from lti_app.extensions import db
from lti_app.lms import gradebook
from lti_app.models import Submission
from tests.coursework.flows import COURSE, open_assignment, post_form, submit_essay
from tests.worker.conftest import wait_for

ESSAY = "Homework should be optional, because rest helps students learn better the next day."
HAND_IN = {"activity_progress": "Submitted", "grading_progress": "Pending"}


def _canvas_assignment(make_tool_server, make_peer):
    tool = make_tool_server()
    lms = make_peer(tool, product_family="canvas")
    lms.add_resource_link(COURSE, "rl-h", title="Homework essay")
    teacher, page = open_assignment(lms, tool, role="Instructor", user_id="teacher-1", resource_link_id="rl-h")
    post_form(teacher, page, {"title": "Homework essay", "prompt": "Argue.", "score_min": "1", "score_max": "6"})
    return tool, lms


def _hand_ins(lms):
    [item] = lms.line_items(COURSE)
    return [s for s in lms.scores(item["id"]) if s.get("activityProgress") == "Submitted"]


def _retry(tool):
    """What the worker runs for the hand-in's event, after the student's request failed to tell it."""
    with tool.app.app_context():
        submission = db.session.scalar(db.select(Submission))
        assert submission.lms_submitted_at is None, "the hand-in's first post should have failed"
        assert gradebook.process_sync({"submission_id": submission.id, **HAND_IN}) == gradebook.POSTED
        submission = db.session.get(Submission, submission.id)
        assert submission.lms_submitted_at == submission.submitted_at and submission.lms_submit_claimed_at is None


def test_a_hand_in_canvas_took_after_the_timeout_is_not_told_again(make_tool_server, make_peer, monkeypatch):
    tool, lms = _canvas_assignment(make_tool_server, make_peer)
    monkeypatch.setenv("GRADELOOP_HTTP_TIMEOUT", "1")
    lms.fail_next(1, mode="slow", delay=2.0, services=("ags",), match="/scores")
    submit_essay(lms, tool, "rl-h", "student-1", ESSAY, name="Ada Student")
    # The sandbox LMS stores the slow post after its delay, whatever the tool's timeout did.
    wait_for(lambda: len(_hand_ins(lms)) == 1, 15, what="the slow hand-in stored by the LMS")
    _retry(tool)
    assert len(_hand_ins(lms)) == 1
    assert list(lms.state.attempts.values()) == [1]   # one submission attempt in Canvas


def test_a_hand_in_canvas_did_not_take_is_told_again(make_tool_server, make_peer):
    tool, lms = _canvas_assignment(make_tool_server, make_peer)
    lms.fail_next(1, status=503, services=("ags",), match="/scores")
    submit_essay(lms, tool, "rl-h", "student-1", ESSAY, name="Ada Student")
    assert _hand_ins(lms) == []
    _retry(tool)
    assert [s["https://canvas.instructure.com/lti/submission"]["submission_data"] for s in _hand_ins(lms)] == [ESSAY]
    assert list(lms.state.attempts.values()) == [1]
