"""The real pipeline under a training lease that gives a silent run up (`worker.leases`,
stall_seconds): the run is marked failed with the stall's reason, and a run that wakes afterwards
stops before writing anything and leaves that reason as it is. Training is faked (FakeTraining)."""
from __future__ import annotations

import time
from types import SimpleNamespace

from lti_app.extensions import db
from lti_app.models import ModelVersion, TrainingRun
from tests.worker.coursework import add_graded, make_assignment
from tests.worker.ml.test_pipeline_guards import FakeTraining
from worker.handlers import training
from worker.settings import WorkerSettings


def test_a_run_that_wakes_after_being_given_up_keeps_the_stall_reason(worker_app, monkeypatch):
    app = worker_app("memory://", GRADELOOP_LEASE_SECONDS=0.6, GRADELOOP_TRAINING_STALL_SECONDS=0.8)
    fake = FakeTraining(monkeypatch)
    fake.on["retrain"] = lambda: time.sleep(2.0)   # silent far longer than the stall limit
    with app.app_context():
        a = make_assignment(min_graded=15, retrain_every=5)
        add_graded(a, 15)
        assignment_id = a.id
    job = SimpleNamespace(app=app, payload={"assignment_id": assignment_id, "reason": "manual"},
                          message_id="slow-run", worker_id="host:1:abc", settings=WorkerSettings.from_app(app))
    with app.app_context():
        training.on_training_due(job)   # LeaseLost is caught: the worker that takes over trains it
    with app.app_context():
        run = db.session.scalars(db.select(TrainingRun)).one()
        assert run.status == "failed" and run.message.startswith("This training stopped making progress"), \
            run.message
        assert db.session.scalars(db.select(ModelVersion)).all() == [], "nothing written after waking"
