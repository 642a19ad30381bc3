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


def test_lms_outage_dead_letter_and_requeue_posts_once(make_tool_server, make_peer, tmp_path, prefix):
    tool = make_tool_server(broker_url=f"sqla+sqlite:///{tmp_path / 'broker.db'}", GRADELOOP_QUEUE_PREFIX=prefix,
                            GRADELOOP_RETRY_MAX_ATTEMPTS=3, GRADELOOP_HTTP_TIMEOUT=2.0, **FAST)
    peer = make_peer(tool)
    item = create_by_deep_link(peer, tool)
    submit_essay(peer, tool, item["resource_link_id"], "student-1", "Uniforms make mornings simpler. " * 20,
                 name="Ada Student")
    teacher, listing = open_assignment(peer, tool, role="Instructor", user_id="teacher-1",
                                       resource_link_id=item["resource_link_id"])
    page = grade_page_for(teacher, listing, "Ada Student")
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
            assert grade.posted_at is None and grade.post_error
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
