"""Auto-feedback latency: a student hands in -> the AI score and feedback are in the LMS gradebook.

Everything real, as in tests/e2e: the tool app over HTTP, the sandbox LMS peer (AGS over HTTP), a
course model trained on 100 real graded essays (tests.e2e's N_GRADED), and a warm `gradeloop
worker` subprocess with the worker's DEFAULT timings (relay poll 0.5 s, embedded broker poll
0.2 s), pinned to 2 cores.
Auto-release mode, threshold 0, so every essay is released.

Measured per essay: from the student's hand-in POST to the moment the peer's gradebook holds a
FullyGraded score for that student (polled every 10 ms). Baseline in the same run: the same outbox ->
relay -> broker -> worker -> AGS path for a teacher grade (a stored grade plus its `gradebook.sync`
event), i.e. the transport without scoring and feedback.

    nice -n 10 .venv/bin/python -m benchmarks.feedback_latency --essays 20
"""
from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from lti_app.demo import graded_rows
from lti_app.events import record_event
from lti_app.extensions import db
from lti_app.models import Assignment, FeedbackMode, Grade, GradeSource, Submission, User
from lti_app.sandbox.keys import pooled_key
from tests.conftest import SHARED_DATA
from tests.coursework.flows import open_assignment, post_form
from tests.e2e.conftest import N_GRADED, start_tool, start_worker, stop_tool, stop_worker, trained_assignment
from tests.peer import Peer
from tests.worker.conftest import wait_for
from worker.settings import WorkerSettings

DEFAULT_TIMINGS = {"GRADELOOP_RELAY_INTERVAL": WorkerSettings.relay_interval,
                   "GRADELOOP_EMBEDDED_POLLING_INTERVAL": WorkerSettings.embedded_polling_interval}


def _wait(predicate):
    return wait_for(predicate, 60, interval=0.01, what="the score in the gradebook")


def _graded(peer: Peer, line_item: str, user: str, score: float | None = None):
    return [s for s in peer.scores(line_item) if s.get("userId") == user and s.get("gradingProgress") == "FullyGraded"
            and (score is None or s.get("scoreGiven") == score)]


def _hand_in(peer, tool, link_id: str, user: str, text: str) -> float:
    """Launch as the student, then time from the hand-in POST."""
    browser, page = open_assignment(peer, tool, role="Learner", user_id=user, resource_link_id=link_id)
    started = time.perf_counter()
    answer = post_form(browser, page, {"text": text}, action_contains="/essay")
    assert answer.status_code == 200, answer.text[:500]
    return started


def _teacher_grade_sync(tool, user: str, score: float) -> float:
    """A stored teacher grade and its gradebook.sync event, committed now; returns the start time."""
    with tool.app.app_context():
        sub = db.session.scalar(db.select(Submission).join(User, Submission.user_id == User.id)
                                .where(User.sub == user))
        assignment = db.session.get(Assignment, sub.assignment_id)
        grade = Grade(submission_id=sub.id, score=score, comment="Teacher's own grade.", source=GradeSource.TEACHER,
                      score_min=assignment.score_min, score_max=assignment.score_max)
        db.session.add(grade)
        db.session.flush()
        record_event("gradebook.sync", {"assignment_id": assignment.id, "grade_id": grade.id})
        started = time.perf_counter()
        db.session.commit()
    return started


def _summary(label: str, seconds: list[float]) -> str:
    ordered = sorted(seconds)
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]
    return (f"{label:48} n={len(ordered):3}  p50 {statistics.median(ordered):6.2f} s  p95 {p95:6.2f} s  "
            f"max {ordered[-1]:6.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--essays", type=int, default=20, help="measured hand-ins (after 3 warm-up ones)")
    parser.add_argument("--broker", default=None, help="broker URL (default: the embedded SQLite broker)")
    parser.add_argument("--cores", default="0,1", help="CPU list the worker is pinned to (taskset)")
    args = parser.parse_args()
    pooled_key(0)
    data_dir = Path(tempfile.mkdtemp(prefix="gl-latency-"))
    prefix = f"lat{uuid.uuid4().hex[:8]}"
    tool = start_tool(data_dir, prefix, broker_url=args.broker)
    peer = Peer(tool).start()
    peer.register_in_tool(tool.app)
    worker = None
    try:
        item, assignment_id = trained_assignment(peer, tool)
        with tool.app.app_context():
            assignment = db.session.get(Assignment, assignment_id)
            assignment.feedback_mode, assignment.confidence_threshold = FeedbackMode.AUTO_RELEASE, 0.0
            db.session.commit()
        worker = start_worker(tool.app, prefix, data_dir / "worker.log", GRADELOOP_SCORER_THREADS="2",
                              **DEFAULT_TIMINGS)
        if args.cores and hasattr(os, "sched_setaffinity"):
            os.sched_setaffinity(worker.pid, {int(c) for c in args.cores.split(",")})
        essays = [r["text"] for r in graded_rows(args.essays + 3, data_dir=SHARED_DATA, skip=N_GRADED)]
        line_item, link = item["line_item_id"], item["resource_link_id"]
        auto, transport = [], []
        for i, text in enumerate(essays):
            user = f"bench-{i}"
            peer.add_member("course-1", user, "Learner", name=f"Student {i}")
            started = _hand_in(peer, tool, link, user, text)
            _wait(lambda: _graded(peer, line_item, user))
            if i >= 3:   # the first three warm the worker (model session, feedback index)
                auto.append(time.perf_counter() - started)
        for i in range(3, len(essays)):
            user = f"bench-{i}"
            started = _teacher_grade_sync(tool, user, 6.0 if _graded(peer, line_item, user)[-1]["scoreGiven"] != 6
                                          else 5.0)
            _wait(lambda: len(_graded(peer, line_item, user)) >= 2)
            transport.append(time.perf_counter() - started)
        print(f"course: {N_GRADED} graded PERSUADE essays (prompt 0); worker cores {args.cores}; "
              f"broker {'embedded' if not args.broker else args.broker.split('@')[-1]}; load average "
              f"{os.getloadavg()[0]:.1f}")
        print(_summary("hand-in -> AI score + feedback in the gradebook", auto))
        print(_summary("baseline: teacher grade -> gradebook (transport)", transport))
        print(f"{'ratio of medians (auto-feedback / transport)':48} "
              f"{statistics.median(auto) / statistics.median(transport):.2f}x")
    finally:
        stop_worker(worker)
        peer.stop()
        stop_tool(tool)


if __name__ == "__main__":
    main()
