"""The training and scoring glue with the real ML pipeline on real essays: teacher grades reach
`retrain_every`, the worker trains once (a `TrainingRun` and a `ModelVersion` record it, the lease
is released, a further grade does not retrain), and a new submission then gets an `AiProposal`
from the model if the promotion gate accepted it, and nothing if it did not (as before any model).
Whether 60 essays pass the ML engineer's gate is theirs to decide; both outcomes are checked."""
from __future__ import annotations

import csv

import pytest

from lti_app.events import record_event
from lti_app.extensions import db
from lti_app.models import (AiProposal, Assignment, Grade, GradeSource, ModelVersion, ProcessedMessage, Submission,
                            TrainingRun)
from tests.worker.conftest import running_worker, wait_for
from tests.worker.coursework import make_assignment
from worker import leases
from worker.handlers.training import lease_key


def _essays(shared_data, n):
    with open(shared_data / "persuade" / "0" / "train.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    return [(r["full_text"], int(float(r["holistic_essay_score"]))) for r in rows[:n]]


def _submit(assignment_id, text, grade=None):
    sub = Submission(assignment_id=assignment_id, text=text, word_count=len(text.split()))
    db.session.add(sub)
    db.session.flush()
    if grade is not None:
        db.session.add(Grade(submission_id=sub.id, score=grade, source=GradeSource.TEACHER, score_min=1, score_max=6))
    return sub


@pytest.mark.slow
def test_grades_train_a_model_that_scores_new_essays(worker_app, broker_for, shared_data):
    app = worker_app(broker_for("embedded"), GRADELOOP_FINETUNE="never", GRADELOOP_TRAIN_BUDGET_S=60)
    essays = _essays(shared_data, 61)
    with app.app_context():
        a = make_assignment(min_graded=60, retrain_every=60)
        early = _submit(a.id, essays[-1][0])
        record_event("submission.created", {"submission_id": early.id, "assignment_id": a.id, "course_id": a.course_id})
        db.session.commit()
        assignment_id, course_id, early_id = a.id, a.course_id, early.id
    with running_worker(app, queues=["training", "scoring"]) as worker:
        with app.app_context():
            wait_for(lambda: not worker.consumer.running and worker.consumer.processed, 30, what="early essay handled")
            assert db.session.scalar(db.select(AiProposal).where(AiProposal.submission_id == early_id)) is None
            for text, score in essays[:60]:
                sub = _submit(assignment_id, text, score)
            db.session.flush()
            grade = db.session.scalar(db.select(Grade).where(Grade.submission_id == sub.id))
            record_event("grade.created", {"grade_id": grade.id, "submission_id": sub.id,
                                           "assignment_id": assignment_id, "course_id": course_id})
            db.session.commit()
            run = wait_for(lambda: db.session.scalar(db.select(TrainingRun).where(
                TrainingRun.status.in_(("done", "failed")))), 300, interval=1.0, what="training run finished")
            assert run.status == "done", run.message
            db.session.expire_all()
            version = db.session.get(ModelVersion, run.model_version_id)
            assert version.status in ("promoted", "rejected") and version.n_train >= 48
            # The run is marked done inside the lease; the lease is released just after.
            wait_for(lambda: leases.holder(lease_key(assignment_id)) is None, 30, what="training lease released")
            current = db.session.get(Assignment, assignment_id).current_model_id
            assert current == (version.id if version.status == "promoted" else None)

            # One more teacher grade: far from `retrain_every` new ones, so no second run.
            extra = _submit(assignment_id, essays[0][0], 3)
            db.session.flush()
            grade = db.session.scalar(db.select(Grade).where(Grade.submission_id == extra.id))
            graded = record_event("grade.created", {"grade_id": grade.id, "submission_id": extra.id,
                                                    "assignment_id": assignment_id, "course_id": course_id})
            new = _submit(assignment_id, essays[-1][0])
            handed_in = record_event("submission.created", {"submission_id": new.id, "assignment_id": assignment_id,
                                                            "course_id": course_id})
            db.session.commit()
            ids = [graded.event_id, handed_in.event_id]   # two queues: either may be handled first
            wait_for(lambda: db.session.scalar(db.select(db.func.count()).select_from(ProcessedMessage)
                                               .where(ProcessedMessage.message_id.in_(ids))) == 2,
                     60, what="grade and submission handled")
            assert db.session.scalar(db.select(db.func.count()).select_from(TrainingRun)) == 1
            proposal = db.session.scalar(db.select(AiProposal).where(AiProposal.submission_id == new.id))
            if version.status == "promoted":
                assert proposal.model_version_id == version.id and 1 <= proposal.score <= 6
                assert 0.0 <= proposal.confidence <= 1.0 and proposal.status == "pending"
            else:
                assert proposal is None, "no promoted model: acknowledged, nothing stored"
