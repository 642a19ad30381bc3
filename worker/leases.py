"""Leases on job keys in `job_leases`: one holder at a time, freed by expiry if the holder dies.

A lease is taken with a conditional INSERT/UPDATE in its own short transaction (never the job's),
so it works the same on SQLite and PostgreSQL across processes and machines. `hold()` renews it
from a heartbeat thread while a long job (a GPU fine-tune) runs, so a live job keeps its lease
however long it takes, and a crashed one loses it `ttl` seconds after its last renewal.

A holder can still lose a lease it is renewing: during a database outage longer than `ttl` the
renewals fail, the lease expires, and once the database is back another worker may take it.
The renewer then sets `lost`; `confirm()` renews at once and says whether the lease is still
ours, so a job checks it right before an effect another holder must not duplicate (the trainer
before writing a model version and before promoting it).

A live process is not always a live job: a training hung in native code (a CUDA call that never
returns, a deadlocked BLAS thread) would keep its lease for ever, so its run showed "running" and
the assignment was never trained again until someone restarted the worker. With `stall_seconds`
the job must `touch()` the renewer (the trainer does on every progress report); after that long
without one the renewer gives the lease up, calls `on_stall` (the trainer marks its run failed),
and the job counts as lost if it ever wakes. `stalled()` names such jobs for the worker's health.
"""
from __future__ import annotations

import contextlib
import logging
import threading
import time
from datetime import datetime, timedelta

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from lti_app.extensions import db
from lti_app.models import JobLease
from lti_app.models.base import utcnow

log = logging.getLogger("gradeloop.worker.leases")

T = JobLease.__table__


class LeaseBusy(Exception):
    def __init__(self, key: str, owner: str, expires_at: datetime | None):
        super().__init__(f"lease {key} is held by {owner}")
        self.key, self.owner, self.expires_at = key, owner, expires_at

    def seconds_left(self) -> float:
        if self.expires_at is None:
            return 0.0
        expires = self.expires_at if self.expires_at.tzinfo else self.expires_at.replace(tzinfo=utcnow().tzinfo)
        return max(0.0, (expires - utcnow()).total_seconds())


def acquire(key: str, owner: str, ttl: float) -> bool:
    """Take the lease if it is free, expired, or already ours; True on success."""
    now = utcnow()
    expires = now + timedelta(seconds=ttl)
    with db.engine.begin() as conn:
        changed = conn.execute(update(T).where(T.c.key == key, (T.c.expires_at < now) | (T.c.owner == owner))
                               .values(owner=owner, expires_at=expires, acquired_at=now)).rowcount
    if changed:
        return True
    try:
        with db.engine.begin() as conn:
            conn.execute(insert(T).values(key=key, owner=owner, expires_at=expires, acquired_at=now))
        return True
    except IntegrityError:
        return False   # someone else holds it (or inserted it a moment ago)


def renew(key: str, owner: str, ttl: float) -> bool:
    with db.engine.begin() as conn:
        return bool(conn.execute(update(T).where(T.c.key == key, T.c.owner == owner)
                                 .values(expires_at=utcnow() + timedelta(seconds=ttl))).rowcount)


def release(key: str, owner: str) -> None:
    with db.engine.begin() as conn:
        conn.execute(delete(T).where(T.c.key == key, T.c.owner == owner))


def release_prefix(worker_id: str) -> int:
    """Drop every lease of a worker (owners are `<worker_id>/<job>`) that is shutting down
    without finishing its jobs."""
    with db.engine.begin() as conn:
        return conn.execute(delete(T).where((T.c.owner == worker_id) | T.c.owner.startswith(worker_id + "/"))).rowcount


def holder(key: str) -> tuple[str, datetime] | None:
    """(owner, expiry) of a live lease on `key`, or None. An expired row is no holder: a worker
    killed mid-job leaves its row behind, and the scheduler, which skips assignments whose
    training lease is held, would otherwise never schedule that assignment's retraining again."""
    with db.engine.connect() as conn:
        row = conn.execute(select(T.c.owner, T.c.expires_at).where(T.c.key == key, T.c.expires_at >= utcnow())).first()
    return (row.owner, row.expires_at) if row else None


_STALLED: dict[str, str] = {}   # key -> owner of held leases whose job stopped making progress
_STALLED_LOCK = threading.Lock()


def stalled() -> list[str]:
    """Keys of leases this process gave up because their job stopped making progress while its
    thread is still there (a hung call): the worker reports itself unhealthy while any remain."""
    with _STALLED_LOCK:
        return sorted(_STALLED)


class _Renewer(threading.Thread):
    def __init__(self, app, key: str, owner: str, ttl: float, stall_seconds: float | None = None,
                 on_stall=None):
        super().__init__(name=f"lease:{key}", daemon=True)
        self.app, self.key, self.owner, self.ttl = app, key, owner, ttl
        self.stall_seconds, self.on_stall = stall_seconds, on_stall
        self.stopped = threading.Event()
        self.lost = threading.Event()
        self.renewed_at = time.monotonic()   # last successful renewal (or the acquisition)
        self.touched_at = time.monotonic()   # last sign of progress from the job
        self._renew_lock = threading.Lock()

    def touch(self) -> None:
        """The job is making progress (see `stall_seconds`)."""
        self.touched_at = time.monotonic()

    def _stall(self) -> None:
        """Give the lease up for a job that stopped making progress: from now on it is lost."""
        silent = time.monotonic() - self.touched_at
        with self._renew_lock:
            self.lost.set()
        with _STALLED_LOCK:
            _STALLED[self.key] = self.owner
        log.error("event=job_stalled key=%s owner=%s silent_s=%.0f action=lease_released", self.key, self.owner,
                  silent)
        try:
            with self.app.app_context():
                # The run is marked before the lease is free: a run the next holder starts must
                # not be taken for this one.
                if self.on_stall is not None:
                    self.on_stall(silent)
                release(self.key, self.owner)
        except Exception as exc:  # noqa: BLE001  the lease still expires on its own after ttl
            log.warning("event=job_stalled_cleanup_failed key=%s error=%r", self.key, exc)

    def _renew(self) -> bool:
        """One renewal; False once the lease is someone else's. Raises on a database error."""
        with self._renew_lock:
            if self.lost.is_set():
                return False
            with self.app.app_context():
                ok = renew(self.key, self.owner, self.ttl)
            if ok:
                self.renewed_at = time.monotonic()
            else:
                self.lost.set()
                log.error("event=lease_lost key=%s owner=%s", self.key, self.owner)
            return ok

    def confirm(self) -> bool:
        """Renew now and say whether the lease is still ours. The renewer's own tick comes only
        every ttl/3, so `lost` alone can lag a takeover by that long. When the database cannot
        be reached, the lease counts as held only while the last renewal is younger than `ttl`
        (until then nobody else can have taken it)."""
        try:
            return self._renew()
        except Exception as exc:  # noqa: BLE001  database unreachable: judge by the last renewal
            log.warning("event=lease_confirm_failed key=%s error=%r", self.key, exc)
            return not self.lost.is_set() and time.monotonic() - self.renewed_at < self.ttl

    def run(self) -> None:
        while not self.stopped.wait(self.ttl / 3):
            if self.stall_seconds and time.monotonic() - self.touched_at > self.stall_seconds:
                self._stall()
                return
            try:
                if not self._renew():
                    return
            except Exception as exc:  # DB blip: try again next tick, the lease has 2/3 ttl left
                log.warning("event=lease_renew_failed key=%s error=%r", self.key, exc)


@contextlib.contextmanager
def hold(app, key: str, owner: str, ttl: float, stall_seconds: float | None = None, on_stall=None):
    """Hold `key` for the duration of the block, renewed in the background; raises LeaseBusy.
    Yields the renewer: check `confirm()` (or `lost`) before effects only the holder may have.
    With `stall_seconds`, `touch()` it on progress: see the module docstring."""
    if not acquire(key, owner, ttl):
        current = holder(key)
        raise LeaseBusy(key, *(current or ("?", None)))
    renewer = _Renewer(app, key, owner, ttl, stall_seconds, on_stall)
    renewer.start()
    try:
        yield renewer
    finally:
        renewer.stopped.set()
        renewer.join(timeout=5)
        with _STALLED_LOCK:
            if _STALLED.get(key) == owner:
                del _STALLED[key]   # the hung job came back and ended
        release(key, owner)
