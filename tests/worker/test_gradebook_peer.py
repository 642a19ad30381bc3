"""The real `gradebook.sync` path end to end: a teacher grades through the peer LMS while its AGS
endpoint is down; the worker retries the outbox event with backoff, dead-letters it, and after the
LMS recovers a requeue posts the grade to the LMS exactly once."""
from __future__ import annotations

import time

from lti_app.extensions import db
from lti_app.models import DeadLetter, Grade
from tests.coursework.flows import create_by_deep_link, grade_page_for, open_assignment, post_form, submit_essay
from tests.worker.conftest import FAST, running_worker, wait_for
from worker.deadletters import requeue


def _graded_scores(peer, item):
    return [s for s in peer.scores(item["line_item_id"]) if s.get("scoreGiven") is not None]


def _grading(make_tool_server, make_peer, tmp_path, prefix, **settings):
    """A tool on the embedded broker (3 attempts per message), one hand-in, and the teacher's
    grading page for it: (tool, peer, deep-linked item, teacher's browser, grading page)."""
    tool = make_tool_server(broker_url=f"sqla+sqlite:///{tmp_path / 'broker.db'}", GRADELOOP_QUEUE_PREFIX=prefix,
                            GRADELOOP_RETRY_MAX_ATTEMPTS=3, **FAST, **settings)
    peer = make_peer(tool)
    item = create_by_deep_link(peer, tool)
    submit_essay(peer, tool, item["resource_link_id"], "student-1", "Uniforms make mornings simpler. " * 20,
                 name="Ada Student")
    teacher, listing = open_assignment(peer, tool, role="Instructor", user_id="teacher-1",
                                       resource_link_id=item["resource_link_id"])
    return tool, peer, item, teacher, grade_page_for(teacher, listing, "Ada Student")


def test_lms_outage_dead_letter_and_requeue_posts_once(make_tool_server, make_peer, tmp_path, prefix):
    # LMS failures counted as attempts (test_lms_retry_budget.py: the hours they get by default).
    tool, peer, item, teacher, page = _grading(make_tool_server, make_peer, tmp_path, prefix,
                                               GRADELOOP_HTTP_TIMEOUT=2.0, GRADELOOP_LMS_RETRY_HOURS=0)
    peer.fail_next(1000, status=503)   # the LMS gradebook is down from now on
    saved = post_form(teacher, page, {"score": "5", "comment": "Clear."}, action_contains="/essays/")
    assert saved.status_code == 200 and _graded_scores(peer, item) == []

    with running_worker(tool.app, queues=["gradebook"]):
        with tool.app.app_context():
            dead = wait_for(lambda: db.session.scalars(db.select(DeadLetter)).all(), 60,
                            what="grade dead-lettered after retries")
            (dead,) = dead
            assert dead.attempts == 3 and "503" in dead.reason and dead.payload["type"] == "gradebook.sync"
            assert dead.assignment_id is not None, "visible on the assignment's pages"
            grade = db.session.scalar(db.select(Grade))
            # Counted as attempts, not the LMS's hours: it does not claim the LMS failed for long.
            assert grade.posted_at is None and grade.post_error == (
                'Gradeloop stopped trying to send it. Use "Send to the LMS again" on the essays list once the '
                'LMS works.')
            with peer.state.lock:
                peer.state.failures.clear()   # the LMS is back
            requeue(dead.id)
        wait_for(lambda: _graded_scores(peer, item), 30, what="grade posted after requeue")
        time.sleep(1.5)
    scores = _graded_scores(peer, item)
    assert len(scores) == 1 and scores[0]["scoreGiven"] == 5
    with tool.app.app_context():
        grade = db.session.scalar(db.select(Grade))
        assert grade.posted_at is not None and grade.post_error is None


def test_a_grade_another_attempt_is_posting_is_deferred_not_dead_lettered(make_tool_server, make_peer, tmp_path,
                                                                           prefix, monkeypatch):
    """While the web request holds a grade's post claim, the worker's event waits without using
    its attempts (three retries would be spent in seconds, long before a slow poster's claim goes
    stale), then posts the grade once the claim is gone. A `line_item` event runs through the
    worker too (the column's maximum after an edit the LMS could not take at once)."""
    from lti_app.events import record_event
    from lti_app.lms import post_claims
    from lti_app.models import Assignment, OutboxEvent
    from lti_app.models.base import utcnow
    from worker.handlers import gradebook as handler

    monkeypatch.setattr(handler, "BEING_POSTED_DELAY_S", 0.5)
    tool, peer, item, teacher, page = _grading(make_tool_server, make_peer, tmp_path, prefix)
    peer.fail_next(1, status=503)   # the web request's own post fails: the worker's event must do it
    post_form(teacher, page, {"score": "5", "comment": "Clear."}, action_contains="/essays/")
    with tool.app.app_context():
        db.session.execute(db.update(Grade).values(post_claimed_at=utcnow()))   # "being posted" elsewhere
        assignment_id = db.session.scalar(db.select(Assignment.id))
        db.session.execute(db.update(Assignment).values(score_max=4))
        record_event("gradebook.sync", {"assignment_id": assignment_id, "line_item": True})
        db.session.commit()
    with running_worker(tool.app, queues=["gradebook"]):
        wait_for(lambda: peer.line_items()[0]["scoreMaximum"] == 4, 30, what="the column's maximum updated")
        with tool.app.app_context():
            wait_for(lambda: db.session.scalar(db.select(db.func.count()).select_from(OutboxEvent).where(
                OutboxEvent.payload["payload"]["grade_id"].as_integer().is_not(None),
                OutboxEvent.published_at.is_not(None))) >= 5, 30,
                what="the grade's event deferred more often than its 3 attempts allow")
            assert _graded_scores(peer, item) == [] and db.session.scalars(db.select(DeadLetter)).all() == []
            db.session.execute(db.update(Grade).values(
                post_claimed_at=utcnow() - post_claims.stale_after() - post_claims.stale_after()))
            db.session.commit()
        wait_for(lambda: _graded_scores(peer, item), 30, what="grade posted once the claim went stale")
    assert [s["scoreGiven"] for s in _graded_scores(peer, item)] == [5]
    with tool.app.app_context():
        assert db.session.scalars(db.select(DeadLetter)).all() == []
