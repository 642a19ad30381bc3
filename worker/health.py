"""Worker heartbeats (`worker_heartbeats` rows) and what `gradeloop worker-status` reports.

Each worker process updates its row every `GRADELOOP_HEARTBEAT_SECONDS` with its queues and what
it is doing; a row not updated for three beats is shown as stale (the process is gone or hung).
`is_healthy(hostname)` backs the docker healthcheck of worker containers.

A worker that cannot reach the broker keeps beating (its heartbeat thread only needs the
database), so a fresh row alone does not mean it works: after three beats of "connecting" it
reports `BROKER_UNREACHABLE`, which is unhealthy, instead of looking healthy for ever. Likewise a
worker holding a job that stopped making progress (`worker.leases`, a training hung in a GPU call)
beats "stalled: <job>", unhealthy: its pool thread never comes back without a restart.
"""
from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta

from sqlalchemy import and_, func, select

from lti_app.extensions import db
from lti_app.models import DeadLetter, OutboxEvent, WorkerHeartbeat
from lti_app.models.base import utcnow

log = logging.getLogger("gradeloop.worker.health")

BROKER_UNREACHABLE = "broker unreachable"
STALLED_PREFIX = "stalled: "   # + the lease keys of jobs that stopped making progress (hung)
UNHEALTHY = ("stopped", BROKER_UNREACHABLE)
STALE_BEATS = 3   # a row not updated for this many beats is stale: its process is gone or hung


def database_now():
    """Now by the database's clock, which beats are written and judged by. The web (`lti_app.
    worker_presence`), `worker-status` and each worker may run on different hosts, whose own clocks
    drift apart: a web host a minute ahead of the worker's took every beat for stale. They all read
    PostgreSQL's clock instead. SQLite is a file on one host, so every process there reads that
    host's clock already."""
    clock = database_clock()
    return clock if isinstance(clock, datetime) else db.session.scalar(select(clock))


def database_clock():
    """`database_now` for use inside a statement: PostgreSQL's `now()` there (no round trip of its
    own, which every page that asks about workers would pay), this host's time on SQLite."""
    return utcnow() if db.session.get_bind().dialect.name != "postgresql" else func.now()


def beat(worker_id: str, hostname: str, queues: list[str], status: str) -> None:
    row = db.session.get(WorkerHeartbeat, worker_id)
    if row is None:
        row = WorkerHeartbeat(worker_id=worker_id, hostname=hostname)
        db.session.add(row)
    row.queues, row.status, row.last_seen = list(queues), status[:50], database_now()
    db.session.commit()


class Heartbeat(threading.Thread):
    def __init__(self, app, worker_id: str, hostname: str, queues: list[str], interval: float, status_fn):
        super().__init__(name="heartbeat", daemon=True)
        self.app, self.worker_id, self.hostname, self.queues = app, worker_id, hostname, queues
        self.interval, self.status_fn = interval, status_fn
        self.stopping = threading.Event()
        self._wake = threading.Event()

    def poke(self) -> None:
        """Beat now (the status changed) instead of at the next period."""
        self._wake.set()

    def run(self) -> None:
        while not self.stopping.is_set():
            self.send(self.status_fn())
            self._wake.wait(self.interval)
            self._wake.clear()

    def stop(self) -> None:
        self.stopping.set()
        self._wake.set()

    def send(self, status: str) -> None:
        with self.app.app_context():
            try:
                beat(self.worker_id, self.hostname, self.queues, status)
            except Exception as exc:  # the DB may be restarting; the next beat catches up
                log.warning("event=heartbeat_failed error=%r", exc)
                db.session.rollback()
            finally:
                db.session.remove()


def _aware(ts):
    return ts if ts.tzinfo else ts.replace(tzinfo=utcnow().tzinfo)


def worker_rows(stale_after: float) -> list[dict]:
    now = database_now()
    rows = []
    for hb in db.session.scalars(select(WorkerHeartbeat).order_by(WorkerHeartbeat.hostname, WorkerHeartbeat.worker_id)):
        age = (now - _aware(hb.last_seen)).total_seconds()
        state = hb.status if hb.status == "stopped" or age <= stale_after else f"stale ({hb.status})"
        rows.append({"worker_id": hb.worker_id, "hostname": hb.hostname, "queues": hb.queues,
                     "status": state, "age_seconds": round(age, 1)})
    return rows


def summary() -> dict:
    backlog = db.session.scalar(select(db.func.count()).select_from(OutboxEvent)
                                .where(OutboxEvent.published_at.is_(None))) or 0
    dead = db.session.scalar(select(db.func.count()).select_from(DeadLetter)
                             .where(DeadLetter.requeued_at.is_(None))) or 0
    return {"outbox_unpublished": backlog, "dead_letters": dead}


def healthy(stale_after: float, *, stopped_counts: bool = False):
    """Where-clause of the rows of workers that work now: beat within `stale_after` seconds, not
    stopped, reaching the broker, no hung job. The web's pages ask the same, but count a worker that
    stopped within `stale_after` (`stopped_counts`, see `lti_app.worker_presence`)."""
    cutoff = database_clock() - timedelta(seconds=stale_after)
    unhealthy = [status for status in UNHEALTHY if not (stopped_counts and status == "stopped")]
    return and_(WorkerHeartbeat.last_seen >= cutoff, WorkerHeartbeat.status.notin_(unhealthy),
                ~WorkerHeartbeat.status.startswith(STALLED_PREFIX))


def is_healthy(hostname: str, stale_after: float) -> bool:
    return db.session.scalar(select(db.func.count()).select_from(WorkerHeartbeat).where(
        WorkerHeartbeat.hostname == hostname, healthy(stale_after))) > 0

