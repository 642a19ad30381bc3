"""Worker heartbeat rows for tests of what the pages say about Gradeloop's worker, written by the
worker's own code (`worker.health`): one beat (`beat`), or a worker's heartbeat thread without the
rest of the worker (`beating`) for tests whose pages assume a worker runs."""
from __future__ import annotations

import uuid
from contextlib import contextmanager
from datetime import timedelta

from lti_app.extensions import db
from lti_app.models import WorkerHeartbeat
from lti_app.models.base import utcnow
from worker import health
from worker.settings import WorkerSettings
from worker.topology import WORK_QUEUES, Topology


def queue_names(app, kinds=WORK_QUEUES, prefix: str | None = None) -> list[str]:
    """The queue names a worker started with `--queues kinds` writes into its row."""
    topology = Topology(prefix or WorkerSettings.from_app(app).prefix)
    return [topology.queue_name(kind) for kind in kinds]


def beat(app, kinds=WORK_QUEUES, *, status: str = "idle", age: float = 0.0, prefix: str | None = None) -> str:
    """One heartbeat of a worker serving `kinds`, `age` seconds ago; returns its worker id."""
    worker_id = f"test-host:{uuid.uuid4().hex[:8]}"
    with app.app_context():
        health.beat(worker_id, "test-host", queue_names(app, kinds, prefix), status)
        if age:
            db.session.get(WorkerHeartbeat, worker_id).last_seen = utcnow() - timedelta(seconds=age)
            db.session.commit()
        db.session.remove()
    return worker_id


@contextmanager
def beating(app, kinds=WORK_QUEUES, interval: float = 1.0):
    """A healthy worker's heartbeat thread for the duration (it consumes nothing)."""
    thread = health.Heartbeat(app, f"test-host:{uuid.uuid4().hex[:8]}", "test-host", queue_names(app, kinds),
                              interval, lambda: "idle")
    thread.start()
    try:
        yield thread
    finally:
        thread.stop()
        thread.join(10)
