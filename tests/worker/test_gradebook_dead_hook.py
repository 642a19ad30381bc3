"""When a grade's `gradebook.sync` message dies, the grade stops reading "Waiting for the LMS ...
Gradeloop keeps sending it" (nothing sends it any more), and it blames the LMS only when the LMS's
own retry budget ran out: a grade whose post was never tried, or failed with something other
than the LMS, and one whose worker kept crashing after an LMS failure, say only that sending
stopped. Real tool and sandbox LMS over HTTP; the hook is called as `worker.jobs._dead` calls it."""
import time
from types import SimpleNamespace

import pytest

from lti_app.coursework import grade_in_lms
from lti_app.extensions import db
from lti_app.lms import gradebook
from lti_app.lms.errors import LmsTemporaryError
from lti_app.models import Grade
from tests.coursework.flows import create_by_deep_link, grade_page_for, open_assignment, post_form, submit_essay
from worker.handlers.gradebook import _gave_up
from worker.jobs import LMS_GAVE_UP, LMS_SINCE

ESSAY = "A four-day week would give students time to rest.\n\nIt would also save energy."
STOPPED = 'Gradeloop stopped trying to send it. Use "Send to the LMS again" on the essays list once the LMS works.'


def _graded_while(peer, tool, monkeypatch, failure):
    item = create_by_deep_link(peer, tool)
    submit_essay(peer, tool, item["resource_link_id"], "student-1", ESSAY, name="Ada Student")
    teacher, listing = open_assignment(peer, tool, role="Instructor", user_id="teacher-1",
                                       resource_link_id=item["resource_link_id"])
    page = grade_page_for(teacher, listing, "Ada Student")

    def failing(assignment):
        raise failure

    monkeypatch.setattr(gradebook, "ensure_line_item", failing)
    return post_form(teacher, page, {"score": "4", "comment": "Good."}, action_contains="/essays/")


def _dies(tool, envelope: dict, reason: str) -> Grade:
    with tool.app.app_context():
        grade = db.session.scalar(db.select(Grade))
        _gave_up(SimpleNamespace(payload={"grade_id": grade.id}, envelope=envelope), reason)
        db.session.commit()
        return db.session.get(Grade, grade.id)


@pytest.mark.usefixtures("worker_beating")
def test_a_grade_never_tried_stops_waiting_when_its_message_dies(peer, tool_server, monkeypatch):
    saved = _graded_while(peer, tool_server, monkeypatch, RuntimeError("a bug, or the database failing"))
    assert "nothing for you to do" in saved.text
    grade = _dies(tool_server, {}, "RuntimeError: a bug, or the database failing")
    assert grade.post_error == STOPPED
    assert grade_in_lms.state(grade, quiet=False) == grade_in_lms.NOT_SENT


def test_a_crash_after_an_lms_failure_is_not_blamed_on_the_lms(peer, tool_server, monkeypatch):
    _graded_while(peer, tool_server, monkeypatch,
                  LmsTemporaryError("The LMS is not available right now (the grade: HTTP 503). Gradeloop will try again."))
    grade = _dies(tool_server, {LMS_SINCE: time.time() - 40},
                  "the worker stopped while handling this message 5 times in a row")
    assert grade.post_error == STOPPED


def test_the_lms_budget_running_out_is_said_with_how_long(peer, tool_server, monkeypatch):
    _graded_while(peer, tool_server, monkeypatch,
                  LmsTemporaryError("The LMS is not available right now (the grade: HTTP 503). Gradeloop will try again."))
    grade = _dies(tool_server, {LMS_SINCE: time.time() - 3 * 3600},
                  f"{LMS_GAVE_UP} 3 hours of LMS failures (40 tries). The last: ...")
    assert grade.post_error.startswith("The LMS kept failing, and Gradeloop stopped trying after 3 hours."), \
        grade.post_error
