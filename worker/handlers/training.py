"""`grade.created` / `training.due` -> retrain the assignment's course model when it is due.

Due means: at least `min_graded` graded essays (never fewer than `pipeline.MIN_GRADED`, the
fewest a retrain can work with, whatever the settings say), and
- `grade.created` / reason "threshold": `retrain_every` new teacher grades since the last
  finished training run;
- reason "schedule": any new grade since then;
- reason "import" / "course_copy" (a CSV import, a course copy: one event for the batch): while
  no model is in service, any new grade since then, so that the first model follows the import
  that reaches `min_graded` rather than the schedule; once one serves, `retrain_every` new grades,
  as for teacher grades: a full retrain per small file (a term's essays imported in five files)
  costs a GPU run and a new model version for a handful of essays, and the threshold or the
  schedule takes them in soon enough. Either way also due when no grade counts as new but the
  last finished run started before the event was recorded: a grade's `created_at` is stamped when
  it is flushed, not when the import commits, so a run that started between the two did not see
  the batch, and those grades never count as new afterwards, not even for the schedule (a rare
  race: an extra run beats a batch never trained on). The event is recorded last, just before
  the commit: a run started after it saw the batch (bar a commit's few milliseconds). Not its
  publication: the relay publishes late when the worker was down, and a run made meanwhile (the
  demo's first model) would have been trained twice;
- reason "manual" (the teacher's "retrain now"): none needed;
- reason "erasure" (`gradeloop privacy erase-user`): none needed, like "manual"; and while a
  model is in service, even below `min_graded`: that model may have learnt from the erased
  essays, and the pipeline must either replace it or retire it (`pipeline` module docstring,
  docs/privacy.md); below the minimum the run fails with `NotEnoughGrades` and retires it.

Back-off after a failed run: "grade", "threshold", "schedule", "import" and "course_copy"
retrains of that assignment wait until a grade arrives after the failed run started, or until
`backoff_delay` passed (1 h, doubling with each consecutive failure, at most 24 h). Without it a
run that always fails (a broken base model, a course the trainer cannot fit) started again on
every scheduler check and every grade, five attempts each. "manual" and "erasure" ignore the back-off.

Only one worker trains an assignment at a time: the lease `train:assignment:<id>` is renewed
while the (possibly hour-long GPU) job runs; a busy lease defers a "manual", "erasure", "import"
or "course_copy" message until the lease would expire, and acknowledges a count-based one (the
running job re-counts when it ends). If the lease is lost mid-run (a database outage longer than
the lease) the pipeline stops before writing or promoting (`pipeline.LeaseLost`) and the message
is not retried: the worker that took the lease is training the assignment. An "erasure" waits for a
running training even when it would not be due now (no model in service, too few grades left):
that run may have loaded the deleted essays, and it fails with `pipeline.EssaysDeleted` if it finds
them gone before recording its version; the deferred erasure then decides what trains next.

A run that reports no progress for `GRADELOOP_TRAINING_STALL_SECONDS` (30 min; the longest silent
stretch of a healthy run is an ONNX export or the heads' cross-validation, minutes at most) is
hung: its lease is given up, its run is marked failed (`STALLED`), and the worker reports itself
unhealthy until it is restarted (`worker.leases`). The assignment can then train elsewhere.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select

from lti_app.events import record_event
from lti_app.extensions import db
from lti_app.models import (TRAINING_SOURCES, Assignment, Grade, ModelVersion, OutboxEvent, Submission,
                            TrainingRun)
from lti_app.models.base import utcnow
from worker import leases
from worker.errors import Deferred
from worker.handlers import handles

log = logging.getLogger("gradeloop.worker.training")

FORCED = ("manual", "erasure")     # reasons that skip `retrain_every` and the back-off
BATCH = ("import", "course_copy")  # one event for many grades: not dropped behind a busy lease
BACKOFF_FIRST = timedelta(hours=1)
BACKOFF_MAX = timedelta(hours=24)


STALLED = ("This training stopped making progress for {minutes} minutes (the worker is stuck, e.g. "
           "in a GPU call), so it was given up; the next retrain starts again from the beginning, on "
           "another worker or after this one is restarted.")


def lease_key(assignment_id: int) -> str:
    return f"train:assignment:{assignment_id}"


def _mark_stalled(assignment_id: int, reason: str):
    """`on_stall` for the training lease: runs in the renewer's thread, while the hung job's own
    session still holds its unfinished run row. A run someone asked for ("manual", "erasure": a
    model holding erased essays must still be replaced or retired) is queued again for another
    worker; the others come back with the next grade or the schedule."""
    def mark(silent_seconds: float) -> None:
        runs = db.session.scalars(select(TrainingRun).where(TrainingRun.assignment_id == assignment_id,
                                                            TrainingRun.status.in_(("queued", "running")))).all()
        for run in runs:
            run.status, run.finished_at, run.eta_seconds = "failed", utcnow(), None
            run.message = STALLED.format(minutes=max(1, round(silent_seconds / 60)))
        if reason in FORCED:
            record_event("training.due", {"assignment_id": assignment_id, "reason": reason})
        db.session.commit()
        log.error("event=training_stalled assignment_id=%s silent_s=%.0f runs_marked=%s", assignment_id,
                  silent_seconds, len(runs))
    return mark


def min_graded(assignment: Assignment) -> int:
    """The assignment's `min_graded`, raised to the pipeline's minimum (`pipeline.MIN_GRADED`):
    the settings form accepts smaller values, and a run started below it could only fail."""
    from worker.ml.pipeline import needed_grades   # no torch at import: the scheduler reads this

    return needed_grades(assignment)


@dataclass
class TrainingState:
    graded: int                     # essays with a teacher-standard grade
    new_grades: int                 # such grades since the last finished training run
    last_trained_at: datetime | None
    failures: int = 0               # failed runs since the last finished one (consecutive)
    last_failed_at: datetime | None = None      # start of the latest of them
    grades_since_failure: int = 0   # teacher-standard grades after that failed run started


def _aware(value: datetime | None) -> datetime | None:
    # SQLite hands back naive datetimes (stored as UTC); PostgreSQL aware ones.
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=utcnow().tzinfo)
    return value


def training_state(assignment_id: int) -> TrainingState:
    last = db.session.scalar(select(func.max(TrainingRun.started_at)).where(
        TrainingRun.assignment_id == assignment_id, TrainingRun.status == "done"))
    runs_after = (TrainingRun.assignment_id == assignment_id, TrainingRun.status == "failed")
    if last is not None:
        runs_after = (*runs_after, TrainingRun.started_at > last)
    failures, last_failed = db.session.execute(select(func.count(TrainingRun.id), func.max(TrainingRun.started_at))
                                               .where(*runs_after)).one()
    if last is None:
        last = db.session.scalar(select(func.max(ModelVersion.created_at)).where(
            ModelVersion.assignment_id == assignment_id))
    base = (Grade.submission_id == Submission.id, Submission.assignment_id == assignment_id,
            Grade.source.in_(TRAINING_SOURCES))
    graded = db.session.scalar(select(func.count(func.distinct(Grade.submission_id))).where(*base)) or 0
    where = base if last is None else (*base, Grade.created_at > last)
    new = db.session.scalar(select(func.count(Grade.id)).where(*where)) or 0
    since_failure = 0
    if last_failed is not None:
        since_failure = db.session.scalar(select(func.count(Grade.id)).where(
            *base, Grade.created_at > last_failed)) or 0
    return TrainingState(graded, new, last, failures or 0, last_failed, since_failure)


def backoff_delay(failures: int) -> timedelta:
    """1 h after one failed run, doubling with each consecutive failure, at most 24 h."""
    if failures <= 0:
        return timedelta(0)
    return min(BACKOFF_MAX, BACKOFF_FIRST * 2 ** min(failures - 1, 10))


def backoff_until(state: TrainingState) -> datetime | None:
    """When automatic retrains may run again after failed runs; None when they may now. A grade
    that arrived after the failed run started ends the back-off: the data changed, so the next
    run may succeed where the last one did not."""
    if not state.failures or state.last_failed_at is None or state.grades_since_failure > 0:
        return None
    until = _aware(state.last_failed_at) + backoff_delay(state.failures)
    return until if until > utcnow() else None


def recorded_at(message_id: str) -> datetime | None:
    """When the outbox row of event `message_id` was recorded (its batch's commit); None if gone."""
    return _aware(db.session.scalar(select(OutboxEvent.created_at).where(OutboxEvent.event_id == message_id)))


def is_due(assignment: Assignment, state: TrainingState, reason: str,
           recorded: datetime | None = None) -> bool:
    """`recorded`: for an "import" / "course_copy" reason, when its event was recorded (None when
    unknown, which counts as after the last run: an extra run beats a batch never trained on)."""
    if reason == "erasure" and assignment.current_model_id is not None:
        # The model in service may hold the erased essays: the run replaces it or retires it,
        # whatever the counts (too few grades left: the pipeline retires it).
        return True
    if state.graded < min_graded(assignment):
        return False
    if reason in FORCED:
        return True
    if backoff_until(state) is not None:
        return False
    if reason in BATCH and state.new_grades == 0 and state.last_trained_at is not None:
        # The batch's grades may predate the last run's start (stamped at flush) and still be
        # unseen by it (committed later); a run started after the event was recorded saw them.
        # Unseen, they never count as new, so not even the schedule would train on them.
        return recorded is None or _aware(state.last_trained_at) < recorded
    if reason == "grade" or (reason in BATCH and assignment.current_model_id is not None):
        return state.new_grades >= max(1, assignment.retrain_every)
    return state.new_grades > 0


def _train(job, assignment_id: int, reason: str) -> None:
    assignment = db.session.get(Assignment, assignment_id)
    if assignment is None:
        return
    running = leases.holder(lease_key(assignment_id)) if reason == "erasure" else None
    if running is not None:
        # The running training may have loaded the deleted essays: whether a run is due (a model
        # to replace or retire, enough grades left) is only known once it ends.
        busy = leases.LeaseBusy(lease_key(assignment_id), *running)
        raise Deferred(f"assignment {assignment_id} is being trained by {busy.owner}",
                       delay=min(300.0, max(5.0, busy.seconds_left() + 1)))
    state = training_state(assignment_id)
    recorded = recorded_at(job.message_id) if reason in BATCH else None
    if not is_due(assignment, state, reason, recorded):
        waiting = backoff_until(state)
        log.info("event=training_not_due assignment_id=%s reason=%s graded=%s new=%s min=%s every=%s "
                 "failures=%s backoff_until=%s", assignment_id, reason, state.graded, state.new_grades,
                 min_graded(assignment), assignment.retrain_every, state.failures,
                 waiting.isoformat() if waiting else "-")
        return
    db.session.commit()   # end the read transaction: training can take hours
    owner = f"{job.worker_id}/{job.message_id}"
    try:
        with leases.hold(job.app, lease_key(assignment_id), owner, job.settings.lease_seconds,
                         stall_seconds=job.settings.training_stall_seconds,
                         on_stall=_mark_stalled(assignment_id, reason)) as lease:
            log.info("event=training_started assignment_id=%s reason=%s graded=%s new=%s",
                     assignment_id, reason, state.graded, state.new_grades)
            from worker.ml import pipeline   # torch loads only in workers that train

            try:
                pipeline.train_assignment(job.app, assignment_id, reason=reason, lease=lease)
            except pipeline.NotEnoughGrades as exc:
                # Not a failure to retry: the next grades make it due again (the run says why).
                log.info("event=training_skipped assignment_id=%s reason=%r", assignment_id, str(exc))
                return
            except pipeline.AssignmentGone:
                return   # its course data was deleted meanwhile: nothing left to train
            except pipeline.EssaysDeleted as exc:
                # Not retried: the deletion's `erasure` event (deferred while this run held the
                # lease) decides whether anything is due. The failed run row says why.
                log.warning("event=training_discarded assignment_id=%s cause=essays_deleted detail=%r",
                            assignment_id, str(exc))
                return
            except pipeline.LeaseLost as exc:
                # The worker that took the lease trains this assignment; a retry would only
                # defer behind it. The failed run row says why.
                log.error("event=training_aborted assignment_id=%s cause=lease_lost detail=%r",
                          assignment_id, str(exc))
                return
    except leases.LeaseBusy as busy:
        if reason not in FORCED + BATCH:
            # A count-based trigger: the running training counts the grades that arrived meanwhile
            # when it ends and queues the next run itself (below), and the scheduler catches a
            # holder that died. Deferring would re-deliver every grade of a long GPU run every
            # couple of minutes for nothing.
            log.info("event=training_already_running assignment_id=%s reason=%s holder=%s",
                     assignment_id, reason, busy.owner)
            return
        # A person asked, or a batch that is due now arrived (no model in service yet, or grades no
        # count will see): the running training re-queues only at `retrain_every` new grades, so
        # acknowledging it would leave the first model to the daily schedule.
        raise Deferred(f"assignment {assignment_id} is being trained by {busy.owner}",
                       delay=min(300.0, max(5.0, busy.seconds_left() + 1))) from busy
    db.session.expire_all()
    after = training_state(assignment_id)
    if after.new_grades >= max(1, assignment.retrain_every):
        # Grades that arrived while we trained already make the next run due.
        record_event("training.due", {"assignment_id": assignment_id, "reason": "threshold"})


@handles("grade.created")
def on_grade(job) -> None:
    _train(job, job.payload["assignment_id"], "grade")


@handles("training.due")
def on_training_due(job) -> None:
    _train(job, job.payload["assignment_id"], job.payload.get("reason") or "manual")
