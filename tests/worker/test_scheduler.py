"""One scheduler among several workers (leadership by lease, hand-over when the leader stops), the
retraining check it runs, and `gradeloop worker-status`."""
from __future__ import annotations

import time
from datetime import timedelta

from lti_app.extensions import db
from lti_app.models import OutboxEvent, TrainingRun
from lti_app.models.base import utcnow
from tests.worker.conftest import running_worker, wait_for
from tests.worker.coursework import add_graded, make_assignment
from worker import leases
from worker.handlers.training import lease_key
from worker.scheduler import LEASE_KEY, Scheduler
from worker.settings import WorkerSettings


def test_single_leader_and_handover(worker_app, broker_for):
    app = worker_app(broker_for("embedded"))
    settings = WorkerSettings.from_app(app)
    first, second = Scheduler(app, settings, "host-a:1:aaa"), Scheduler(app, settings, "host-b:2:bbb")
    with app.app_context():
        first.tick()
        second.tick()
        assert (first.is_leader, second.is_leader) == (True, False)
        assert leases.holder(LEASE_KEY)[0] == "host-a:1:aaa"
    first.start()
    first.stop()
    first.join(10)
    with app.app_context():
        assert leases.holder(LEASE_KEY) is None, "a stopping leader hands over at once"
        second._lease_at = 0.0
        second.tick()
        assert second.is_leader
    second.publishers.close()


def test_retraining_check_emits_once_and_skips_busy(worker_app, broker_for):
    app = worker_app(broker_for("embedded"))
    settings = WorkerSettings.from_app(app)
    scheduler = Scheduler(app, settings, "host-a:1:aaa")
    with app.app_context():
        due = make_assignment(min_graded=15, retrain_every=3)   # 15: the fewest a retrain can use
        busy = make_assignment(min_graded=15, retrain_every=3)
        quiet = make_assignment(min_graded=15, retrain_every=3)
        for a in (due, busy):
            add_graded(a, 15)
        add_graded(quiet, 15, age=timedelta(hours=2))
        db.session.add(TrainingRun(assignment_id=quiet.id, status="done", started_at=utcnow() - timedelta(hours=1)))
        db.session.commit()
        leases.acquire(lease_key(busy.id), "gpu:1:x/job", ttl=60)
        assert scheduler.check_retraining() == [due.id]
        assert scheduler.check_retraining() == [], "cool-down: not again while the first is queued"
        events = db.session.scalars(db.select(OutboxEvent).where(OutboxEvent.type == "training.due")).all()
        assert [e.payload["payload"] for e in events] == [{"assignment_id": due.id, "reason": "threshold"}]
    scheduler.publishers.close()


def test_worker_status_cli(worker_app, broker_for):
    from lti_app.cli import main

    app = worker_app(broker_for("embedded"))
    runner = app.test_cli_runner()
    assert "no workers have reported yet" in runner.invoke(main, ["worker-status"]).output
    assert runner.invoke(main, ["worker-status", "--check"]).exit_code == 1
    with running_worker(app, queues=["scoring", "gradebook"]) as worker:
        wait_for(lambda: "idle" in runner.invoke(main, ["worker-status"]).output, 10, what="idle heartbeat")
        out = runner.invoke(main, ["worker-status"]).output
        assert worker.worker_id in out and ".scoring,"in out and "dead letters: 0 open" in out
        assert runner.invoke(main, ["worker-status", "--check"]).exit_code == 0
    out = runner.invoke(main, ["worker-status", "--json"]).output
    assert '"status": "stopped"' in out
    assert runner.invoke(main, ["worker-status", "--check"]).exit_code == 1


def test_housekeeping_keeps_recent_bookkeeping(app):
    from lti_app.models import LoginState, ProcessedMessage, WorkerHeartbeat
    from lti_app.platforms import upsert_platform
    from worker.scheduler import housekeeping

    with app.app_context():
        old, recent = utcnow() - timedelta(days=40), utcnow() - timedelta(hours=1)
        db.session.add_all([
            OutboxEvent(event_id="old", type="t", routing_key="scoring", payload={}, published_at=old),
            OutboxEvent(event_id="pending", type="t", routing_key="scoring", payload={}, created_at=old),
            OutboxEvent(event_id="recent", type="t", routing_key="scoring", payload={}, published_at=recent),
            ProcessedMessage(message_id="old", queue="q", processed_at=old),
            ProcessedMessage(message_id="recent", queue="q", processed_at=recent),
            WorkerHeartbeat(worker_id="gone", hostname="h", queues=[], status="stopped", last_seen=old),
        ])
        platform_id = upsert_platform(issuer="https://lms.example", client_id="c", deployment_ids=["d"],
                                      auth_login_url="https://lms.example/auth",
                                      auth_token_url="https://lms.example/token",
                                      key_set_url="https://lms.example/jwks").id
        db.session.add_all([LoginState(state=name, nonce=name, browser_binding="b", platform_id=platform_id,
                                       login_params={"login_hint": "student-7"}, created_at=at)
                            for name, at in (("old", utcnow() - timedelta(hours=2)),
                                             ("recent", utcnow() - timedelta(minutes=10)))])
        db.session.commit()
        assert housekeeping() == {"outbox": 1, "processed": 1, "heartbeats": 1, "login_states": 1,
                                  "used_nonces": 0, "deep_linking_requests": 0}
        assert db.session.scalars(db.select(LoginState.state)).all() == ["recent"], "login hints go within hours"
        assert sorted(db.session.scalars(db.select(OutboxEvent.event_id))) == ["pending", "recent"]
        assert db.session.scalars(db.select(ProcessedMessage.message_id)).all() == ["recent"]


def test_worker_refuses_unknown_queue(app):
    from lti_app.cli import main

    result = app.test_cli_runner().invoke(main, ["worker", "--queues", "scoring,typo"])
    assert result.exit_code == 1
    assert "unknown queue(s) ['typo']" in str(result.exception) + result.output


def test_a_training_whose_worker_died_is_marked_failed_and_its_assignment_retrains(app):
    """kill -9 during a training leaves its run "running" and its lease row behind. The run is
    marked failed once nobody renews the lease (the dashboard stops showing it in progress), and
    the expired lease no longer makes the scheduler skip the assignment."""
    from worker.scheduler import ABANDONED, abandoned_trainings

    with app.app_context():
        dead, alive, young = (make_assignment() for _ in range(3))
        long_ago = utcnow() - timedelta(minutes=30)
        runs = [TrainingRun(assignment_id=a.id, status="running", started_at=started)
                for a, started in ((dead, long_ago), (alive, long_ago), (young, utcnow()))]
        db.session.add_all(runs)
        db.session.commit()
        assert leases.acquire(lease_key(dead.id), "killed-worker/job", ttl=0.01)   # expires at once
        assert leases.acquire(lease_key(alive.id), "live-worker/job", ttl=600)     # a long GPU run
        time.sleep(0.05)
        assert leases.holder(lease_key(dead.id)) is None
        assert abandoned_trainings(lease_seconds=120) == 1
        db.session.expire_all()
        assert [r.status for r in runs] == ["failed", "running", "running"]
        assert runs[0].message == ABANDONED and runs[0].finished_at is not None


def test_the_retraining_check_looks_only_at_assignments_with_new_grades(app):
    """Every minute the leader checks every assignment; a school has thousands, nearly all idle.
    Idle ones (no grade since their last finished run, or none at all) and those with too few
    graded essays to train cost nothing per assignment."""
    from sqlalchemy import event

    from worker.scheduler import due_retraining

    with app.app_context():
        idle = []
        for _ in range(12):
            a = make_assignment(min_graded=15, retrain_every=3)
            add_graded(a, 15, age=timedelta(hours=2))
            db.session.add(TrainingRun(assignment_id=a.id, status="done", started_at=utcnow() - timedelta(hours=1)))
            idle.append(a)
        empty = [make_assignment() for _ in range(5)]
        for _ in range(10):   # a first few grades, below what training needs
            add_graded(make_assignment(min_graded=15, retrain_every=1), 3)
        busy = make_assignment(min_graded=15, retrain_every=3)
        add_graded(busy, 20)
        db.session.commit()
        statements = []
        listener = lambda *args: statements.append(args[2])   # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            due = due_retraining(interval_hours=24)
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
    assert due == [(busy.id, "threshold")] and len(idle) + len(empty) == 17
    assert len(statements) <= 8, f"{len(statements)} statements for 28 assignments"


def test_version_directories_of_killed_trainings_are_removed(app):
    """A training killed while it wrote v<N> leaves a directory no version row names (the failed
    run's own cleanup never ran), holding what it learnt from the essays. The scheduler removes
    it once it is older than a lease, unless a live training holds the assignment's lease."""
    import os

    from lti_app.models import ModelVersion
    from worker.ml import versions
    from worker.scheduler import orphan_model_dirs

    with app.app_context():
        quiet, training = make_assignment(), make_assignment()
        kept, orphan, young, busy = (versions.version_dir(app, a.id, n)
                                     for a, n in ((quiet, 1), (quiet, 2), (quiet, 3), (training, 1)))
        for folder in (kept, orphan, young, busy):
            folder.mkdir(parents=True)
            (folder / "meta.json").write_text("{}")
        old = time.time() - 3600
        for folder in (kept, orphan, busy):
            os.utime(folder, (old, old))
        db.session.add(ModelVersion(assignment_id=quiet.id, version=1, approach="frozen-ridge", path=str(kept)))
        db.session.commit()
        assert leases.acquire(lease_key(training.id), "live-worker/job", ttl=600)
        assert orphan_model_dirs(app, lease_seconds=120) == 1
        assert [f.exists() for f in (kept, orphan, young, busy)] == [True, False, True, True]


def test_a_leader_that_lost_its_lease_stops_relaying_a_backlog(worker_app, broker_for, monkeypatch):
    """A backlog after a broker outage is relayed batch after batch; if that outlasts the leader's
    lease and another worker takes over, the old leader must stop between batches (on SQLite both
    relays would otherwise publish the same rows)."""
    from dataclasses import replace

    from lti_app.events import record_event
    from worker import relay

    app = worker_app(broker_for("embedded"))
    settings = replace(WorkerSettings.from_app(app), relay_batch=2)
    scheduler = Scheduler(app, settings, "host-a:1:aaa")
    relay_once = relay.relay_once

    def slow_batch(*args, **kwargs):
        published = relay_once(*args, **kwargs)
        # This batch took longer than the lease: it ran out and another worker took it.
        leases.release(LEASE_KEY, "host-a:1:aaa")
        assert leases.acquire(LEASE_KEY, "host-b:2:bbb", ttl=60)
        scheduler._lease_at = 0.0
        return published

    with app.app_context():
        for n in range(6):
            record_event("training.due", {"assignment_id": n + 1, "reason": "schedule"})
        db.session.commit()
        checked = []
        monkeypatch.setattr(scheduler, "check_retraining", lambda: checked.append(1))   # due in this tick
        monkeypatch.setattr(relay, "relay_once", slow_batch)
        assert scheduler.tick() == 2 and not scheduler.is_leader
        assert checked == [], "the leader's periodic work is the new leader's now"
        unpublished = db.select(db.func.count()).select_from(OutboxEvent).where(OutboxEvent.published_at.is_(None))
        assert db.session.scalar(unpublished) == 4   # left to the new leader
    scheduler.publishers.close()
