"""The one scheduler: outbox relay (which also releases delayed retries) and periodic retraining.

Every worker process runs this thread, but only the holder of the `scheduler` lease works, so
several workers on several machines still relay each event once and start one retraining per
assignment. If the leader dies its lease expires and another worker takes over.

Retraining is due for an assignment with at least `min_graded` graded essays (never fewer than
the pipeline's minimum, `training.min_graded`) when `retrain_every` new teacher grades arrived
since the last finished run (normally the `grade.created` handler notices first; this catches
anything missed), or when any new grade exists and the last run is older than
`GRADELOOP_RETRAIN_INTERVAL_HOURS`; in both cases not while the assignment is backing off after
a failed run (`training.backoff_until`), which the handler would refuse anyway. Only assignments
with a grade since their last finished run are looked at one by one (`with_new_grades`).
"""
from __future__ import annotations

import logging
import shutil
import threading
import time
from datetime import timedelta

from sqlalchemy import case, func, or_, select

from lti_app.events import record_event
from lti_app.extensions import db
from lti_app.models import (MIN_TRAINING_ESSAYS, TRAINING_SOURCES, Assignment, Grade, ModelVersion, OutboxEvent,
                            ProcessedMessage, Submission, TrainingRun, WorkerHeartbeat)
from lti_app.models.base import utcnow
from worker import deadletters, leases, relay
from worker.broker import PublisherPool
from worker.handlers.training import backoff_until, lease_key, min_graded, training_state
from worker.ml import modelfiles, versions

log = logging.getLogger("gradeloop.worker.scheduler")

LEASE_KEY = "scheduler"


def with_new_grades():
    """A select of the assignments with a training grade newer than their last finished run (or
    their newest model version, or ever) and enough graded essays to train (`training.min_graded`):
    every due retraining needs both, so only these are looked at one by one. One query, where a
    school's thousands of idle assignments, or of assignments whose teacher graded a first few
    essays, cost five each a minute before. "Last" is what `training.training_state` takes as last:
    keep the two alike."""
    done = (select(func.max(TrainingRun.started_at)).where(TrainingRun.assignment_id == Assignment.id,
                                                           TrainingRun.status == "done").scalar_subquery())
    built = (select(func.max(ModelVersion.created_at)).where(ModelVersion.assignment_id == Assignment.id)
             .scalar_subquery())
    newer = (select(Grade.id).join(Submission, Grade.submission_id == Submission.id)
             .where(Submission.assignment_id == Assignment.id, Grade.source.in_(TRAINING_SOURCES),
                    or_(func.coalesce(done, built).is_(None), Grade.created_at > func.coalesce(done, built))))
    graded = (select(func.count(func.distinct(Grade.submission_id)))
              .join(Submission, Grade.submission_id == Submission.id)
              .where(Submission.assignment_id == Assignment.id, Grade.source.in_(TRAINING_SOURCES))
              .scalar_subquery())
    needed = case((func.coalesce(Assignment.min_graded, 0) > MIN_TRAINING_ESSAYS, Assignment.min_graded),
                  else_=MIN_TRAINING_ESSAYS)   # training.min_graded, in SQL
    return select(Assignment).where(newer.exists(), graded >= needed)


def due_retraining(interval_hours: float) -> list[tuple[int, str]]:
    """(assignment id, reason) for every assignment whose retraining is due now."""
    due = []
    now = utcnow()
    for assignment in db.session.scalars(with_new_grades()):
        state = training_state(assignment.id)
        if state.graded < min_graded(assignment) or state.new_grades == 0:
            continue
        if backoff_until(state) is not None:
            continue   # a failed run: wait for a new grade or the back-off (not every 10 minutes)
        if state.new_grades >= max(1, assignment.retrain_every):
            due.append((assignment.id, "threshold"))
            continue
        last = state.last_trained_at
        if last is not None and last.tzinfo is None:
            last = last.replace(tzinfo=now.tzinfo)
        if last is None or now - last >= timedelta(hours=interval_hours):
            due.append((assignment.id, "schedule"))
    return due


def housekeeping(keep_days: float = 30.0) -> dict:
    """Forget bookkeeping nobody needs any more: published outbox rows, processed-message ids
    (redeliveries come within hours, not weeks), heartbeats of workers long gone, and the LTI
    launch bookkeeping past its use (`lti_app.lti.housekeeping`: login hints are personal data,
    and on a quiet site the web processes' own purge, every 1000th login, came seldom)."""
    from lti_app.lti.housekeeping import purge_expired

    cutoff = utcnow() - timedelta(days=keep_days)
    deleted = {
        "outbox": db.session.execute(db.delete(OutboxEvent).where(
            OutboxEvent.published_at.is_not(None), OutboxEvent.published_at < cutoff)).rowcount,
        "processed": db.session.execute(db.delete(ProcessedMessage).where(
            ProcessedMessage.processed_at < cutoff)).rowcount,
        "heartbeats": db.session.execute(db.delete(WorkerHeartbeat).where(
            WorkerHeartbeat.last_seen < utcnow() - timedelta(days=7))).rowcount,
    }
    db.session.commit()
    deleted.update(purge_expired())
    return deleted


ABANDONED = ("The worker stopped during this training (it was restarted or killed), so it did not "
             "finish; the next retrain starts again from the beginning.")


def abandoned_trainings(lease_seconds: float) -> int:
    """Mark as failed the training runs still "running" whose worker died: nobody holds their
    assignment's training lease any more (a live run renews it). Without this the dashboard showed
    such a run in progress for ever. They count as failures for the retraining back-off."""
    cutoff = utcnow() - timedelta(seconds=lease_seconds)
    stuck = db.session.scalars(select(TrainingRun).where(TrainingRun.status.in_(("queued", "running")),
                                                         TrainingRun.started_at < cutoff)).all()
    marked = 0
    for run in stuck:
        if leases.holder(lease_key(run.assignment_id)) is None:
            run.status, run.message, run.finished_at, run.eta_seconds = "failed", ABANDONED, utcnow(), None
            marked += 1
    db.session.commit()
    if marked:
        log.warning("event=abandoned_trainings_marked count=%s", marked)
    return marked


def orphan_model_dirs(app, lease_seconds: float) -> int:
    """Delete version directories no `ModelVersion` row names, left by a training killed while it
    wrote them (kill -9, out of memory, a shutdown past its grace): a failed run removes its own.
    They hold what the model learnt from students' essays (`meta.json` lists the essays, the
    TF-IDF vocabulary their words), so they must not outlive the data (docs/privacy.md). Only
    where nobody holds the assignment's training lease, and only directories older than a lease:
    a live run is writing the newest one."""
    root = versions.models_root(app)
    if not root.is_dir():
        return 0
    data_dir = app.config.get("GRADELOOP_DATA_DIR")
    known = {modelfiles.resolve_dir(path, data_dir).resolve()
             for path in db.session.scalars(select(ModelVersion.path).where(ModelVersion.path.is_not(None)))}
    cutoff = time.time() - lease_seconds
    removed = 0
    for folder in root.glob("assignment-*"):
        assignment_id = folder.name.removeprefix("assignment-")
        if not assignment_id.isdigit() or leases.holder(lease_key(int(assignment_id))) is not None:
            continue
        for version in folder.glob("v*"):
            if version.is_dir() and version.resolve() not in known and version.stat().st_mtime < cutoff:
                shutil.rmtree(version, ignore_errors=True)
                removed += 1
    if removed:
        log.warning("event=orphan_model_dirs_removed count=%s", removed)
    return removed


class Scheduler(threading.Thread):
    def __init__(self, app, settings, worker_id: str):
        super().__init__(name="scheduler", daemon=True)
        self.app, self.settings, self.worker_id = app, settings, worker_id
        self.stopping = threading.Event()
        self.is_leader = False
        self._lease_at = 0.0
        self._checked_at = 0.0
        self._emitted: dict[int, float] = {}
        self.publishers = PublisherPool(settings)

    def _lead(self) -> bool:
        now = time.monotonic()
        if not self.is_leader or now - self._lease_at > self.settings.scheduler_lease_seconds / 3:
            was = self.is_leader
            self.is_leader = leases.acquire(LEASE_KEY, self.worker_id, self.settings.scheduler_lease_seconds)
            self._lease_at = now
            if self.is_leader != was:
                log.info("event=scheduler_%s worker_id=%s", "leader" if self.is_leader else "follower",
                         self.worker_id)
        return self.is_leader

    def check_retraining(self) -> list[int]:
        cooldown = max(600.0, 5 * self.settings.retrain_check_seconds)
        emitted = []
        for assignment_id, reason in due_retraining(self.settings.retrain_interval_hours):
            if time.monotonic() - self._emitted.get(assignment_id, -cooldown) < cooldown:
                continue
            if leases.holder(lease_key(assignment_id)) is not None:
                continue   # training now; the handler re-checks when it finishes
            record_event("training.due", {"assignment_id": assignment_id, "reason": reason})
            self._emitted[assignment_id] = time.monotonic()
            emitted.append(assignment_id)
        db.session.commit()
        if emitted:
            log.info("event=retraining_scheduled assignments=%s", emitted)
        return emitted

    def tick(self) -> int:
        """One round (inside an app context); returns how many events were published."""
        if not self._lead():
            return 0
        published = 0
        while not self.stopping.is_set():
            n = relay.relay_once(self.publishers, self.settings.relay_batch)
            published += n
            # A backlog (after a broker outage) can take longer than the leader's lease: renew it
            # between batches, and stop if another worker took over, or both relays (no SKIP
            # LOCKED on SQLite) would publish the same rows.
            if n < self.settings.relay_batch or not self._lead():
                break
        if not self.is_leader:
            return published   # the new leader checks retraining and keeps house now
        if time.monotonic() - self._checked_at >= self.settings.retrain_check_seconds:
            self._checked_at = time.monotonic()
            self.check_retraining()
            housekeeping()
            deadletters.prune(self.app.config.get("GRADELOOP_DEAD_LETTER_DAYS", deadletters.KEEP_DAYS))
            abandoned_trainings(self.settings.lease_seconds)
            orphan_model_dirs(self.app, self.settings.lease_seconds)
        return published

    def run(self) -> None:
        while not self.stopping.is_set():
            published = 0
            with self.app.app_context():
                try:
                    published = self.tick()
                except Exception as exc:  # DB or broker blip: next tick retries
                    log.warning("event=scheduler_error error=%r", exc)
                    db.session.rollback()
                finally:
                    db.session.remove()
            self.publishers.heartbeat()
            if not published:
                # Broker unreachable: retry the connection less and less often (at most every 10 s).
                backoff = min(10.0, self.settings.relay_interval * 2 ** min(self.publishers.failures, 10))
                self.stopping.wait(backoff if self.publishers.failures else self.settings.relay_interval)
        self.publishers.close()
        if self.is_leader:
            with self.app.app_context():
                leases.release(LEASE_KEY, self.worker_id)

    def stop(self) -> None:
        self.stopping.set()
