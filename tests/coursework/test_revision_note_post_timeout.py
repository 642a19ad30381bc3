"""A revision note ("Returned for revision: ...") the LMS took but answered after
GRADELOOP_HTTP_TIMEOUT: the worker's retry first reads the student's result and does not post the
note again, since Canvas adds each post's comment to the submission's comments (the student would
read the note twice). A note the LMS did not take is sent again (`revision_notice.push_revision_state`)."""
import pytest

from lti_app.extensions import db
from lti_app.lms import gradebook
from lti_app.lms.revision_notice import NOTES, RETURNED
from lti_app.models import Submission
from tests.coursework.flows import class_with_one_essay, grade_page_for, post_form
from tests.worker.conftest import wait_for

ESSAY = "Homework should be optional, because rest helps students learn better the next day."


def _returned(make_tool_server, make_peer, family, monkeypatch, **failure):
    """A graded essay returned for revision while the LMS fails its note as `failure` says."""
    tool = make_tool_server()
    lms = make_peer(tool, **({"product_family": family} if family else {}))
    item, teacher, listing = class_with_one_essay(lms, tool, ESSAY)
    graded = post_form(teacher, grade_page_for(teacher, listing, "Ada Student"), {"score": "3", "comment": "Cite it."},
                       action_contains="/essays/")
    assert "sent to the LMS gradebook" in graded.text
    monkeypatch.setenv("GRADELOOP_HTTP_TIMEOUT", "1")
    lms.fail_next(1, services=("ags",), match="/scores", **failure)
    assert post_form(teacher, graded, action_contains="/return").status_code == 200
    return tool, lms, item


def _notes(lms, item) -> int:
    return sum(1 for s in lms.scores(item["line_item_id"]) if (s.get("comment") or "").startswith(NOTES[RETURNED]))


def _retry(tool):
    with tool.app.app_context():   # what the worker runs for the return's event
        submission = db.session.scalar(db.select(Submission))
        assert submission.lms_notice is None, "the note's first post should have failed"
        assert gradebook.process_sync({"submission_id": submission.id, "revision": True}) == gradebook.POSTED
        assert db.session.get(Submission, submission.id).lms_notice.startswith(RETURNED)


@pytest.mark.parametrize("family", ["canvas", "moodle", None])
def test_a_note_the_lms_took_after_the_timeout_is_not_posted_again(make_tool_server, make_peer, monkeypatch, family):
    tool, lms, item = _returned(make_tool_server, make_peer, family, monkeypatch, mode="slow", delay=2.0)
    # The sandbox LMS stores the slow post after its delay, whatever the tool's timeout did.
    wait_for(lambda: _notes(lms, item) == 1, 15, what="the slow note stored by the LMS")
    _retry(tool)
    assert _notes(lms, item) == 1


def test_a_note_the_lms_did_not_take_is_posted_again(make_tool_server, make_peer, monkeypatch):
    tool, lms, item = _returned(make_tool_server, make_peer, "canvas", monkeypatch, status=503)
    assert _notes(lms, item) == 0
    _retry(tool)
    assert _notes(lms, item) == 1
