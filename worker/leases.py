"""Leases on job keys in `job_leases`: one holder at a time, freed by expiry if the holder dies.

A lease is taken with a conditional INSERT/UPDATE in its own short transaction (never the job's),
so it works the same on SQLite and PostgreSQL across processes and machines. `hold()` renews it
from a heartbeat thread while a long job (a GPU fine-tune) runs, so a live job keeps its lease
however long it takes, and a crashed one loses it `ttl` seconds after its last renewal.
"""
from __future__ import annotations

import contextlib
import logging
import threading
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
    with db.engine.connect() as conn:
        row = conn.execute(select(T.c.owner, T.c.expires_at).where(T.c.key == key)).first()
    return (row.owner, row.expires_at) if row else None


class _Renewer(threading.Thread):
    def __init__(self, app, key: str, owner: str, ttl: float):
        super().__init__(name=f"lease:{key}", daemon=True)
        self.app, self.key, self.owner, self.ttl = app, key, owner, ttl
        self.stopped = threading.Event()
        self.lost = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(self.ttl / 3):
            try:
                with self.app.app_context():
                    if not renew(self.key, self.owner, self.ttl):
                        self.lost.set()
                        log.error("event=lease_lost key=%s owner=%s", self.key, self.owner)
                        return
            except Exception as exc:  # DB blip: try again next tick, the lease has 2/3 ttl left
                log.warning("event=lease_renew_failed key=%s error=%r", self.key, exc)


@contextlib.contextmanager
def hold(app, key: str, owner: str, ttl: float):
    """Hold `key` for the duration of the block, renewed in the background; raises LeaseBusy."""
    if not acquire(key, owner, ttl):
        current = holder(key)
        raise LeaseBusy(key, *(current or ("?", None)))
    renewer = _Renewer(app, key, owner, ttl)
    renewer.start()
    try:
        yield renewer
    finally:
        renewer.stopped.set()
        renewer.join(timeout=5)
        release(key, owner)
