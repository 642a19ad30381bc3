"""`grade.created` / `training.due` -> retrain the assignment's course model when it is due.

Due means: at least `min_graded` graded essays, and `retrain_every` new teacher grades since the
last finished training run (`grade.created`), or any new grade (`training.due` from the schedule),
or none needed (`training.due` with reason "manual"). Only one worker trains an assignment at a
time: the lease `train:assignment:<id>` is renewed while the (possibly hour-long GPU) job runs; a
busy lease defers the message until the lease would expire instead of failing it.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from lti_app.events import record_event
from lti_app.extensions import db
from lti_app.models import (TRAINING_SOURCES, Assignment, Grade, ModelVersion, Submission,
                            TrainingRun)
from worker import leases
from worker.errors import Deferred
from worker.handlers import handles

log = logging.getLogger("gradeloop.worker.training")


def lease_key(assignment_id: int) -> str:
    return f"train:assignment:{assignment_id}"


@dataclass
class TrainingState:
    graded: int                     # essays with a teacher-standard grade
    new_grades: int                 # such grades since the last finished training run
    last_trained_at: datetime | None


def training_state(assignment_id: int) -> TrainingState:
    last = db.session.scalar(select(func.max(TrainingRun.started_at)).where(
        TrainingRun.assignment_id == assignment_id, TrainingRun.status == "done"))
    if last is None:
        last = db.session.scalar(select(func.max(ModelVersion.created_at)).where(
            ModelVersion.assignment_id == assignment_id))
    where = (Grade.submission_id == Submission.id, Submission.assignment_id == assignment_id,
             Grade.source.in_(TRAINING_SOURCES))
    graded = db.session.scalar(select(func.count(func.distinct(Grade.submission_id))).where(*where)) or 0
    if last is not None:
        where = (*where, Grade.created_at > last)
    new = db.session.scalar(select(func.count(Grade.id)).where(*where)) or 0
    return TrainingState(graded, new, last)


def is_due(assignment: Assignment, state: TrainingState, reason: str) -> bool:
    if state.graded < assignment.min_graded:
        return False
    if reason == "manual":
        return True
    if reason == "grade":
        return state.new_grades >= max(1, assignment.retrain_every)
    return state.new_grades > 0


def _train(job, assignment_id: int, reason: str) -> None:
    assignment = db.session.get(Assignment, assignment_id)
    if assignment is None:
        return
    state = training_state(assignment_id)
    if not is_due(assignment, state, reason):
        log.info("event=training_not_due assignment_id=%s reason=%s graded=%s new=%s min=%s every=%s",
                 assignment_id, reason, state.graded, state.new_grades, assignment.min_graded,
                 assignment.retrain_every)
        return
    db.session.commit()   # end the read transaction: training can take hours
    owner = f"{job.worker_id}/{job.message_id}"
    try:
        with leases.hold(job.app, lease_key(assignment_id), owner, job.settings.lease_seconds):
            log.info("event=training_started assignment_id=%s reason=%s graded=%s new=%s",
                     assignment_id, reason, state.graded, state.new_grades)
            from worker.ml import pipeline   # torch loads only in workers that train

            try:
                pipeline.train_assignment(job.app, assignment_id)
            except pipeline.NotEnoughGrades as exc:
                # Not a failure to retry: the next grades make it due again (the run says why).
                log.info("event=training_skipped assignment_id=%s reason=%r", assignment_id, str(exc))
                return
    except leases.LeaseBusy as busy:
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
