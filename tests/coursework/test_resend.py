"""*Send to the LMS again* is bounded: during an outage it stops at the first temporary failure (it
does not wait one timeout per grade) and past a time budget, and queues the rest for the worker as
fresh `gradebook.sync` outbox events, which then post each grade exactly once."""
import pytest

from lti_app.coursework import lms_quiet, lms_sync
from lti_app.extensions import db
from lti_app.lms import gradebook
from lti_app.models import Grade, OutboxEvent
from tests.coursework.flows import create_by_deep_link, grade_page_for, open_assignment, post_form, submit_essay

ESSAY = "School uniforms make mornings simpler and reduce pressure about clothes."
STUDENTS = [("student-1", "Ada Student"), ("student-2", "Ben Student"), ("student-3", "Cy Student")]
SCORES = "/scores"
pytestmark = pytest.mark.usefixtures("worker_beating")   # the worker sends what a resend queues


@pytest.fixture(autouse=True)
def _each_save_tries_the_lms(monkeypatch):
    """These tests are about "send again": every save of the set-up tries the LMS, so the web
    process must not leave a failed LMS alone afterwards (that is tested in test_lms_failures)."""
    monkeypatch.setattr(lms_quiet, "QUIET_S", 0.0)


def _unposted_grades(peer, tool):
    """Three students' essays graded while the LMS refused every score (503): none is posted."""
    item = create_by_deep_link(peer, tool)
    for user_id, name in STUDENTS:
        submit_essay(peer, tool, item["resource_link_id"], user_id, ESSAY, name=name)
    teacher, listing = open_assignment(peer, tool, role="Instructor", user_id="teacher-1",
                                       resource_link_id=item["resource_link_id"])
    for n, (_, name) in enumerate(STUDENTS):
        peer.fail_next(1, status=503, match=SCORES)
        saved = post_form(teacher, grade_page_for(teacher, listing, name), {"score": str(n + 2)},
                          action_contains="/essays/")
        assert "Gradeloop keeps sending the grade on its own" in saved.text
    listing = teacher.get(listing.url, timeout=30)
    assert "3 grades are waiting for the LMS" in listing.text
    return item, teacher, listing


def _score_calls(peer) -> int:
    return sum(1 for _, method, path in peer.service_calls("ags") if method == "POST" and path.endswith(SCORES))


def _graded_scores(peer, item) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {}
    for score in peer.scores(item["line_item_id"]):
        if score.get("scoreGiven") is not None:
            out.setdefault(score["userId"], []).append(score["scoreGiven"])
    return out


def _new_sync_payloads(tool, after_id: int) -> list[dict]:
    with tool.app.app_context():
        return [e.payload["payload"] for e in db.session.scalars(
            db.select(OutboxEvent).filter_by(type="gradebook.sync").where(OutboxEvent.id > after_id)
            .order_by(OutboxEvent.id))]


def _last_outbox_id(tool) -> int:
    with tool.app.app_context():
        return db.session.scalar(db.select(db.func.max(OutboxEvent.id))) or 0


def _unposted_ids(tool) -> set[int]:
    with tool.app.app_context():
        return set(db.session.scalars(db.select(Grade.id).where(Grade.posted_at.is_(None))))


def test_resend_during_outage_tries_once_and_queues_the_rest(peer, tool_server):
    tool_server.app.config["GRADELOOP_HTTP_TIMEOUT"] = 0.5
    item, teacher, listing = _unposted_grades(peer, tool_server)
    unposted, last_event, calls = _unposted_ids(tool_server), _last_outbox_id(tool_server), _score_calls(peer)
    peer.fail_next(len(STUDENTS), mode="timeout", delay=1.0, match=SCORES)   # still down: every score times out
    resent = post_form(teacher, listing, action_contains="/resend")
    with peer.state.lock:
        peer.state.failures.clear()   # the LMS recovers
    assert _score_calls(peer) - calls == 1, "one timeout is enough to know the LMS is down"
    assert resent.status_code == 200
    assert ("0 of 3 grades sent. The LMS stopped answering. All 3 are queued; Gradeloop keeps sending them "
            "on its own.") in resent.text   # none sent: no "other" ones (walk3 #3)
    assert _graded_scores(peer, item) == {}
    queued = _new_sync_payloads(tool_server, last_event)
    assert sorted(p["grade_id"] for p in queued) == sorted(unposted) and len(queued) == 3
    with tool_server.app.app_context():   # what the worker does with them once the LMS is back
        assert [gradebook.process_sync(p) for p in queued] == [gradebook.POSTED] * 3
        assert [gradebook.process_sync(p) for p in queued] == [gradebook.SKIPPED] * 3
    assert _graded_scores(peer, item) == {"student-1": [2], "student-2": [3], "student-3": [4]}
    assert _unposted_ids(tool_server) == set()


def test_resend_stops_at_the_time_budget(peer, tool_server, monkeypatch):
    item, teacher, listing = _unposted_grades(peer, tool_server)
    last_event = _last_outbox_id(tool_server)
    monkeypatch.setattr(lms_sync, "RESEND_BUDGET_S", 0.0)   # used up after the first grade
    resent = post_form(teacher, listing, action_contains="/resend")
    assert "1 of 3 grades sent. The other 2 are queued; Gradeloop keeps sending them on its own." in resent.text
    assert "The LMS said" not in resent.text
    queued = _new_sync_payloads(tool_server, last_event)
    assert len(queued) == 2 and set(p["grade_id"] for p in queued) == _unposted_ids(tool_server)
    with tool_server.app.app_context():
        assert [gradebook.process_sync(p) for p in queued] == [gradebook.POSTED] * 2
    assert _graded_scores(peer, item) == {"student-1": [2], "student-2": [3], "student-3": [4]}


def test_resend_after_recovery_sends_all(peer, tool_server):
    item, teacher, listing = _unposted_grades(peer, tool_server)
    last_event = _last_outbox_id(tool_server)
    resent = post_form(teacher, listing, action_contains="/resend")
    assert "3 grades sent to the LMS gradebook." in resent.text
    assert "waiting for the LMS" not in resent.text
    assert _new_sync_payloads(tool_server, last_event) == []
    assert _graded_scores(peer, item) == {"student-1": [2], "student-2": [3], "student-3": [4]}
