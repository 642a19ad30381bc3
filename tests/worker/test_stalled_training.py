"""A training hung in native code (a GPU call that never returns) is given up: its run is marked
failed with a reason, the assignment's lease is free for another worker, and the worker reports
itself unhealthy, since only a restart frees the thread the hung call holds."""
from __future__ import annotations

import socket
import threading

from lti_app.events import record_event
from lti_app.extensions import db
from lti_app.models import OutboxEvent, ProcessedMessage, TrainingRun
from tests.worker.conftest import running_worker, wait_for
from tests.worker.coursework import add_graded, make_assignment
from worker import health, leases
from worker.handlers.training import lease_key
from worker.ml import pipeline


def test_a_hung_training_is_given_up_and_the_worker_turns_unhealthy(worker_app, broker_for, monkeypatch):
    app = worker_app(broker_for("embedded"), GRADELOOP_LEASE_SECONDS=0.9, GRADELOOP_TRAINING_STALL_SECONDS=3)
    wake, woke = threading.Event(), []

    def hung_training(app_, assignment_id, *, reason=None, lease=None, progress=None):
        with app_.app_context():
            run = TrainingRun(assignment_id=assignment_id, status="running", phase="fine-tune")
            db.session.add(run)
            db.session.commit()
            lease.touch()            # one progress report, then the call that never returns
            wake.wait(60)
            try:
                pipeline._check_lease(lease, "writing the version")   # what the real run does next
            except pipeline.LeaseLost:
                woke.append("lease lost")
                raise

    monkeypatch.setattr(pipeline, "train_assignment", hung_training)
    with app.app_context():
        a = make_assignment(min_graded=15, retrain_every=50)
        add_graded(a, 15)
        event_id = record_event("training.due", {"assignment_id": a.id, "reason": "manual"}).event_id
        db.session.commit()
        assignment_id = a.id

    def run_row():
        db.session.expire_all()
        return db.session.scalar(db.select(TrainingRun).where(TrainingRun.assignment_id == assignment_id)
                                 .order_by(TrainingRun.id))   # the hung one (a requeued run comes after)

    with running_worker(app, queues=["training"]) as worker:
        with app.app_context():
            wait_for(lambda: (r := run_row()) is not None and r.status == "running", 20, what="training started")
            assert leases.holder(lease_key(assignment_id)) is not None
            failed = wait_for(lambda: (r := run_row()).status == "failed" and r, 20, what="hung run marked failed")
            assert failed.message.startswith("This training stopped making progress"), failed.message
            assert failed.finished_at is not None
            # The run is marked failed before the lease is given up (see leases._Renewer._stall).
            wait_for(lambda: leases.holder(lease_key(assignment_id)) is None, 10,
                     what="lease given up: the assignment may train elsewhere")
            assert worker.status() == f"stalled: {lease_key(assignment_id)}"
            wait_for(lambda: not health.is_healthy(socket.gethostname(), 30), 10, what="healthcheck fails")
            assert db.session.get(ProcessedMessage, event_id) is None, "still running: not acknowledged"
            again = db.session.scalars(db.select(OutboxEvent).where(OutboxEvent.type == "training.due",
                                                                    OutboxEvent.event_id != event_id)).all()
            # (The scheduler may queue its own "schedule" run too, now that the lease is free.)
            assert {"assignment_id": assignment_id, "reason": "manual"} in [e.payload["payload"] for e in again], \
                "the teacher's request is queued again for another worker"

            wake.set()   # the call returns after all: the job stops before writing anything
            wait_for(lambda: db.session.get(ProcessedMessage, event_id), 20, what="message acknowledged")
            assert woke == ["lease lost"]
            wait_for(lambda: worker.status() == "idle", 10, what="no job stalled any more")
            wait_for(lambda: health.is_healthy(socket.gethostname(), 30), 10, what="healthy again")
            late = run_row()
            assert late.status == "failed" and late.message == failed.message, "the stall's reason stands"
