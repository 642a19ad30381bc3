"""Whether a training run's rows are still the ones it started with.

SQLite (the embedded default) gives a new row the id of a deleted one when that was the highest
id. A teacher who deletes the course's data while the worker trains deletes the assignment, its
essays and the run's own row; rows created afterwards (another course's assignment and essays,
another worker's run) can then carry the very ids the run holds. Looked up by id alone they would
let the run record its model, learnt from the first course's essays and teachers' comments, as
the other assignment's, and write its progress over another run's row. An id plus the row's
creation time names a row for good (PostgreSQL never reuses ids; there the check is one query).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from lti_app.extensions import db
from lti_app.models import Assignment, TrainingRun


@dataclass(frozen=True)
class RunIdentity:
    assignment_id: int
    course_id: int
    assignment_created: datetime
    run_id: int
    run_started: datetime

    @classmethod
    def of(cls, assignment: Assignment, run: TrainingRun) -> "RunIdentity":
        """Of a run just committed (both rows as the database holds them)."""
        return cls(assignment.id, assignment.course_id, assignment.created_at, run.id, run.started_at)

    def holds(self) -> bool:
        """The run's row and its assignment are still the ones the run started with. Reads
        columns only, without flushing: pending changes must not reach a row that is not ours."""
        with db.session.no_autoflush:
            row = db.session.execute(
                db.select(Assignment.course_id, Assignment.created_at, TrainingRun.started_at)
                .join(TrainingRun, TrainingRun.assignment_id == Assignment.id)
                .where(Assignment.id == self.assignment_id, TrainingRun.id == self.run_id)).first()
        return row is not None and tuple(row) == (self.course_id, self.assignment_created, self.run_started)
