"""Canvas counts every score post as a new submission attempt unless its Canvas extension says
`new_submission: false` (canvas-lms `ScoresController#new_submission?`). The sandbox LMS plays
Canvas here (`lms_rules`): it counts attempts and, like an assignment that allows one attempt,
refuses (422) a second. One hand-in must stay one attempt through grading, the Review-mode
"waiting for the teacher" post and the revision notes."""
from datetime import datetime, timezone

import pytest

from lti_app.extensions import db
from lti_app.lms import ags
from lti_app.lms.errors import LmsPermanentError
from lti_app.lms.gradebook import POSTED, client_for_course, process_sync
from lti_app.models import Course, Grade, Submission
from tests.coursework.flows import create_by_deep_link, grade_page_for, open_assignment, post_form, submit_essay

ESSAY = "A four-day week would give students time to rest.\n\nIt would also save energy."
CANVAS_EXT = "https://canvas.instructure.com/lti/submission"


def _canvas(make_peer):
    lms = make_peer(product_family="canvas")
    lms.state.max_attempts = 1
    return lms


def test_grade_pending_manual_and_notes_are_not_new_attempts(make_peer, tool_server):
    lms = _canvas(make_peer)
    item = create_by_deep_link(lms, tool_server)
    submit_essay(lms, tool_server, item["resource_link_id"], "student-1", ESSAY, name="Ada Student")
    with tool_server.app.app_context():   # what the worker posts when a proposal waits for review
        submission_id = db.session.scalar(db.select(Submission.id))
        assert process_sync({"submission_id": submission_id, "activity_progress": "Submitted",
                             "grading_progress": "PendingManual"}) == POSTED
    teacher, listing = open_assignment(lms, tool_server, role="Instructor", user_id="teacher-1",
                                       resource_link_id=item["resource_link_id"])
    saved = post_form(teacher, grade_page_for(teacher, listing, "Ada Student"),
                      {"score": "3", "comment": "Give evidence."}, action_contains="/essays/")
    assert "sent to the LMS gradebook" in saved.text
    post_form(teacher, saved, action_contains="/return")
    with tool_server.app.app_context():
        grade = db.session.scalar(db.select(Grade))
        assert grade.posted_at is not None and grade.post_error is None
        assert db.session.get(Submission, submission_id).lms_notice.startswith("returned:")
    scores = lms.scores(item["line_item_id"])
    assert [s["gradingProgress"] for s in scores] == ["PendingManual", "PendingManual", "FullyGraded", "FullyGraded"]
    hand_in, *later = scores
    assert hand_in[CANVAS_EXT]["new_submission"] is True
    assert hand_in[CANVAS_EXT]["submission_type"] == "online_text_entry" and hand_in[CANVAS_EXT]["submission_data"] == ESSAY
    assert all(s[CANVAS_EXT] == {"new_submission": False} for s in later)
    assert lms.state.attempts == {(lms.state.resolve_line_item(item["line_item_id"]), "student-1"): 1}


def test_the_sandbox_playing_canvas_refuses_an_attempt_too_many(make_peer, tool_server):
    """The rule the test above relies on: without the extension a score is an attempt."""
    lms = _canvas(make_peer)
    item = create_by_deep_link(lms, tool_server)
    submit_essay(lms, tool_server, item["resource_link_id"], "student-1", ESSAY, name="Ada Student")
    with tool_server.app.app_context():
        client = client_for_course(db.session.scalar(db.select(Course)))
        body = ags.score_body(user_id="student-1", timestamp=datetime.now(timezone.utc),
                              activity_progress="Completed", grading_progress="FullyGraded",
                              score_given=4, score_maximum=6)
        with pytest.raises(LmsPermanentError) as refused:
            ags.post_score(client, item["line_item_id"], body)
    assert refused.value.status == 422


def test_a_waiting_post_that_reaches_canvas_after_the_grade_is_not_a_failure(make_peer, tool_server):
    """The worker's "waiting for the teacher" post and the teacher's grade at the same moment: the
    grade reached Canvas first, and Canvas refuses the older post with 400 ("before last updated
    timestamp", where Moodle answers 409). Nothing to tell it: not a failure, and not sent again."""
    from lti_app.lms.gradebook import SKIPPED

    lms = make_peer(product_family="canvas")
    item = create_by_deep_link(lms, tool_server)
    submit_essay(lms, tool_server, item["resource_link_id"], "student-1", ESSAY, name="Ada Student")
    with tool_server.app.app_context():
        submission_id = db.session.scalar(db.select(Submission.id))
        client = client_for_course(db.session.scalar(db.select(Course)))
        ags.post_score(client, item["line_item_id"], ags.score_body(   # the grade, as the grading page sent it
            user_id="student-1", timestamp=datetime.now(timezone.utc), activity_progress="Completed",
            grading_progress="FullyGraded", score_given=4, score_maximum=6,
            extensions={CANVAS_EXT: {"new_submission": False}}))
        assert process_sync({"submission_id": submission_id, "activity_progress": "Submitted",
                             "grading_progress": "PendingManual"}) == SKIPPED
    assert [s["gradingProgress"] for s in lms.scores(item["line_item_id"])] == ["PendingManual", "FullyGraded"]
