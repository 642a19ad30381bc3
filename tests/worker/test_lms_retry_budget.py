"""The LMS failing for now (5xx, 429, throttling, timeouts) is waited out for hours, not five
attempts: a grade saved during an outage longer than the attempts' back-off (about 30 s by
default) reaches the LMS once it is back, each try no sooner than the LMS's `Retry-After`, and
only `GRADELOOP_LMS_RETRY_HOURS` after the first failure does it become a dead letter that says
how long it was tried. A grade that waited that long is still the right one when it is sent.
Real worker, real sandbox LMS over HTTP; `_grading` gives every message 3 attempts."""
from __future__ import annotations

import re
import time

import pytest

from lti_app.extensions import db
from lti_app.models import DeadLetter, Grade, OutboxEvent
from tests.coursework.flows import post_form
from tests.worker.conftest import running_worker, wait_for
from tests.worker.test_gradebook_peer import _graded_scores, _grading
from worker.deadletters import requeue
from worker.settings import WorkerSettings


def _lms_failures_at(peer, monkeypatch) -> list[float]:
    """When the sandbox LMS served each injected failure (the peer is the test's LMS, not the
    code under test: this only watches it)."""
    times: list[float] = []
    take = peer.state.take_failure

    def watched(service, request_line=""):
        failure = take(service, request_line)
        if failure is not None:
            times.append(time.monotonic())
        return failure

    monkeypatch.setattr(peer.state, "take_failure", watched)
    return times


def _dead(app) -> list[DeadLetter]:
    with app.app_context():
        return db.session.scalars(db.select(DeadLetter)).all()


def _grade_events(app) -> list[dict]:
    """Every outbox copy of a grade's `gradebook.sync` (the web's event and the worker's retries)."""
    with app.app_context():
        rows = db.session.scalars(db.select(OutboxEvent).order_by(OutboxEvent.id)).all()
        return [r.payload for r in rows if r.type == "gradebook.sync" and r.payload["payload"].get("grade_id")]


def _age_pending_event(app, hours: float, failures: int) -> None:
    """Make the grade's unsent event look as if the LMS had been failing it for `hours` (what a
    day-long outage leaves in the outbox), without waiting that long."""
    with app.app_context():
        for row in db.session.scalars(db.select(OutboxEvent).where(OutboxEvent.published_at.is_(None))):
            if row.type == "gradebook.sync" and row.payload["payload"].get("grade_id"):
                row.payload = {**row.payload, "lms_failing_since": time.time() - hours * 3600,
                               "lms_failures": failures}
        db.session.commit()


def _wait_until_all_sent(app, what: str) -> None:
    with app.app_context():
        wait_for(lambda: not db.session.scalar(db.select(db.func.count()).select_from(OutboxEvent).where(
            OutboxEvent.published_at.is_(None))), 30, what=what)


def test_an_lms_outage_longer_than_the_attempts_is_waited_out(make_tool_server, make_peer, tmp_path, prefix,
                                                             monkeypatch):
    tool, peer, item, teacher, page = _grading(make_tool_server, make_peer, tmp_path, prefix)
    failed_at = _lms_failures_at(peer, monkeypatch)
    peer.fail_next(1000, status=503)   # the LMS is down (the sandbox answers "Retry-After: 1")
    post_form(teacher, page, {"score": "5", "comment": "Clear."}, action_contains="/essays/")
    failed_at.clear()                  # the web request's own try

    with running_worker(tool.app, queues=["gradebook"]):
        wait_for(lambda: len(failed_at) >= 6 or _dead(tool.app), 40, what="the worker trying past its 3 attempts")
        assert not _dead(tool.app), f"dead-lettered during the outage: {_dead(tool.app)[0].reason}"
        with tool.app.app_context():
            grade = db.session.scalar(db.select(Grade))
            # What the teacher reads meanwhile ("Waiting for the LMS" on the list and the grade's page).
            assert grade.posted_at is None and grade.post_error.endswith("Gradeloop will try again.")
        with peer.state.lock:
            peer.state.failures.clear()   # the LMS is back
        wait_for(lambda: _graded_scores(peer, item), 30, what="grade posted after the outage")
        time.sleep(1.0)

    assert [s["scoreGiven"] for s in _graded_scores(peer, item)] == [5] and not _dead(tool.app)
    gaps = [b - a for a, b in zip(failed_at, failed_at[1:])]
    # FAST back-off alone would try again after 0.1-0.4 s: the LMS asked for 1 s.
    assert min(gaps) >= 1.0, gaps
    retries = _grade_events(tool.app)[1:]
    assert len(retries) >= 6 and {m["attempt"] for m in retries} == {0}, "LMS failures use no attempt"
    assert [m["lms_failures"] for m in retries[:6]] == [1, 2, 3, 4, 5, 6]
    with tool.app.app_context():
        grade = db.session.scalar(db.select(Grade))
        assert grade.posted_at is not None and grade.post_error is None


def test_after_the_lms_budget_the_grade_is_dead_lettered_saying_how_long(make_tool_server, make_peer, tmp_path,
                                                                        prefix):
    tool, peer, item, teacher, page = _grading(make_tool_server, make_peer, tmp_path, prefix,
                                               GRADELOOP_LMS_RETRY_HOURS=0.001)   # 3.6 s
    peer.fail_next(1000, status=429)   # throttled, for longer than that
    post_form(teacher, page, {"score": "5", "comment": "Clear."}, action_contains="/essays/")
    with running_worker(tool.app, queues=["gradebook"]):
        (dead,) = wait_for(lambda: _dead(tool.app), 30, what="dead letter after the LMS budget")
        assert re.match(r"Gradeloop stopped trying after [3-9] s of LMS failures \(\d+ tries\)\. The last: "
                        r"LmsTemporaryError: The LMS asked Gradeloop to slow down", dead.reason), dead.reason
        assert dead.attempts > 3, "more tries than the attempts allow"
        assert "lms_failing_since" not in dead.payload and "lms_failures" not in dead.payload
        with peer.state.lock:
            peer.state.failures.clear()
        with tool.app.app_context():
            requeue(dead.id)   # with the whole budget again
        wait_for(lambda: _graded_scores(peer, item), 30, what="grade posted after requeue")
        time.sleep(1.0)
    assert [s["scoreGiven"] for s in _graded_scores(peer, item)] == [5] and len(_dead(tool.app)) == 1


def test_the_default_budget_is_a_day(make_tool_server, make_peer, tmp_path, prefix):
    tool, peer, item, teacher, page = _grading(make_tool_server, make_peer, tmp_path, prefix)
    peer.fail_next(1000, status=503)
    post_form(teacher, page, {"score": "5", "comment": "Clear."}, action_contains="/essays/")
    _age_pending_event(tool.app, hours=25, failures=300)
    with running_worker(tool.app, queues=["gradebook"]):
        (dead,) = wait_for(lambda: _dead(tool.app), 30, what="dead letter after a day of LMS failures")
    assert dead.reason.startswith("Gradeloop stopped trying after 25 hours of LMS failures (301 tries). "
                                  "The last: LmsTemporaryError: The LMS is not available right now"), dead.reason
    assert WorkerSettings(broker_url="memory://").lms_retry_hours == 24
    with tool.app.app_context():   # what the teacher reads now: not "will try again" any more
        grade = db.session.scalar(db.select(Grade))
        assert grade.posted_at is None
        assert grade.post_error.startswith("The LMS kept failing, and Gradeloop stopped trying after 25 hours."), \
            grade.post_error
        assert "Send to the LMS again" in grade.post_error and "will try again" not in grade.post_error


def test_a_grade_that_waited_hours_is_not_sent_over_a_newer_or_a_sent_one(make_tool_server, make_peer, tmp_path,
                                                                          prefix):
    """The retry runs against what is true when it runs: the teacher's newer grade wins over
    the one that waited, and a grade *Send to the LMS again* posted meanwhile is not sent twice."""
    from lti_app.lms.gradebook import push_grade

    tool, peer, item, teacher, page = _grading(make_tool_server, make_peer, tmp_path, prefix)
    peer.fail_next(1000, status=503)
    page = post_form(teacher, page, {"score": "5", "comment": "Clear."}, action_contains="/essays/")
    _age_pending_event(tool.app, hours=20, failures=250)   # waiting since yesterday
    page = post_form(teacher, page, {"score": "3", "comment": "Look again at the ending."}, action_contains="/essays/")
    with tool.app.app_context():
        first, newer = db.session.scalars(db.select(Grade).order_by(Grade.id)).all()
        assert (first.score, newer.score) == (5, 3) and newer.posted_at is None
    with peer.state.lock:
        peer.state.failures.clear()   # the LMS is back
        peer.fail_next(2, status=503)  # ... but not quite: the worker's first tries fail again
    with running_worker(tool.app, queues=["gradebook"]):
        wait_for(lambda: _graded_scores(peer, item), 30, what="the newer grade posted")
        _wait_until_all_sent(tool.app, "every retry sent")
        time.sleep(1.5)
    assert [s["scoreGiven"] for s in _graded_scores(peer, item)] == [3] and not _dead(tool.app)
    with tool.app.app_context():
        first, newer = db.session.scalars(db.select(Grade).order_by(Grade.id)).all()
        assert first.posted_at is None and newer.posted_at is not None and newer.post_error is None

    # A grade the teacher sent again by hand while its event waited: the event sends nothing.
    page = teacher.get(page.url, timeout=30)
    post_form(teacher, page, {"score": "4", "comment": "Better."}, action_contains="/essays/")
    _age_pending_event(tool.app, hours=20, failures=250)
    with tool.app.app_context():
        latest = db.session.scalars(db.select(Grade).order_by(Grade.id.desc())).first()
        assert latest.score == 4
        if latest.posted_at is None:   # the save's own post may already have reached the LMS
            assert push_grade(latest.id) == "posted"
    with running_worker(tool.app, queues=["gradebook"]):
        _wait_until_all_sent(tool.app, "the waiting event handled")
        time.sleep(1.5)
    assert [s["scoreGiven"] for s in _graded_scores(peer, item)] == [3, 4] and not _dead(tool.app)


def test_lms_retry_hours_setting(monkeypatch):
    monkeypatch.setenv("GRADELOOP_LMS_RETRY_HOURS", "2.5")
    assert WorkerSettings.from_app(None).lms_retry_hours == 2.5
    monkeypatch.setenv("GRADELOOP_LMS_RETRY_HOURS", "-1")
    with pytest.raises(ValueError, match="GRADELOOP_LMS_RETRY_HOURS must be a number >= 0"):
        WorkerSettings.from_app(None)
    monkeypatch.setenv("GRADELOOP_LMS_RETRY_HOURS", "a day")
    with pytest.raises(ValueError, match="GRADELOOP_LMS_RETRY_HOURS must be a number"):
        WorkerSettings.from_app(None)
