"""Essays deleted while the assignment trains (a data-protection erasure, a teacher removing a wrong
CSV, which is what started the first training): the run must not put a model that learnt from them
into service, and the deletion's event must wait for the run instead of being dropped as "not
due" (no model in service yet, too few grades left). Training is faked (FakeTraining)."""
from __future__ import annotations

import threading
from types import SimpleNamespace

import pytest

from lti_app.extensions import db
from lti_app.models import Assignment, ModelVersion, OutboxEvent, Submission, TrainingRun, User
from tests.worker.coursework import add_graded, make_assignment
from tests.worker.ml.test_pipeline_guards import FakeTraining
from worker.errors import Deferred
from worker.handlers import training
from worker.settings import WorkerSettings


def _job(app, payload, message_id):
    return SimpleNamespace(app=app, payload=payload, message_id=message_id, worker_id="host:1:abc",
                           settings=WorkerSettings.from_app(app))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def training_app(request, make_app):
    if request.param == "postgres":
        return request.getfixturevalue("pg_app")("memory://")
    return make_app()


def test_an_erasure_during_the_first_training_keeps_its_model_out_of_service(training_app, monkeypatch):
    app = training_app
    fake = FakeTraining(monkeypatch)
    with app.app_context():
        a = make_assignment(min_graded=15, retrain_every=5)
        add_graded(a, 15)
        assignment_id = a.id
    erasure = {}

    def erase_while_training():   # after the training set was loaded, before the model is written
        def privacy_cli_then_worker():
            from lti_app.erasure import erase_user

            with app.app_context():
                essay = db.session.scalars(db.select(Submission).where(Submission.assignment_id == assignment_id)
                                           .order_by(Submission.id)).first()
                erase_user(db.session.get(User, essay.user_id))
                event = db.session.scalars(db.select(OutboxEvent).where(OutboxEvent.type == "training.due")
                                           .order_by(OutboxEvent.id.desc())).first()
                erasure["payload"] = event.payload["payload"]
            with app.app_context():
                try:
                    training.on_training_due(_job(app, erasure["payload"], "erasure-event"))
                    erasure["outcome"] = "acknowledged"
                except Deferred:
                    erasure["outcome"] = "deferred"

        helper = threading.Thread(target=privacy_cli_then_worker)
        helper.start()
        helper.join(30)

    fake.on["retrain"] = erase_while_training
    with app.app_context():
        training.on_training_due(_job(app, {"assignment_id": assignment_id, "reason": "manual"}, "first-run"))
        db.session.commit()
    assert erasure == {"payload": {"assignment_id": assignment_id, "reason": "erasure"}, "outcome": "deferred"}
    with app.app_context():
        assert db.session.get(Assignment, assignment_id).current_model_id is None
        assert db.session.scalars(db.select(ModelVersion)).all() == [], "nothing kept of the discarded run"
        run = db.session.scalars(db.select(TrainingRun)).one()
        assert run.status == "failed" and "were deleted while it trained" in run.message, run.message
        # Once the run has ended the deferred erasure is handled: 14 grades left, no model: not due.
        training.on_training_due(_job(app, erasure["payload"], "erasure-event"))
        assert db.session.scalar(db.select(db.func.count(TrainingRun.id))) == 1
