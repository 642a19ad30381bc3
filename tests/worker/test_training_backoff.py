"""When the training handler starts a run, beyond test_training_trigger.py: an erasure always
retrains (and retrains below the minimum while a model is in service), failed runs back off
instead of starting again on every check and grade, `min_graded` below what the pipeline can
train on counts as the pipeline's minimum, and the handler hands the reason and its lease to the
pipeline (a lost lease is not retried)."""
from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest

from lti_app.extensions import db
from lti_app.models import TrainingRun
from lti_app.models.base import utcnow
from tests.worker.coursework import add_graded, make_assignment, put_model_in_service
from worker.handlers import training
from worker.handlers.training import backoff_delay, is_due, training_state
from worker.ml import pipeline
from worker.scheduler import due_retraining
from worker.settings import WorkerSettings


def test_erasure_retrains_like_manual_even_without_new_grades(app):
    with app.app_context():
        a = make_assignment(min_graded=15, retrain_every=5)
        add_graded(a, 20, age=timedelta(hours=2))
        db.session.add(TrainingRun(assignment_id=a.id, status="done", started_at=utcnow() - timedelta(hours=1)))
        db.session.commit()
        state = training_state(a.id)
        assert state.new_grades == 0 and not is_due(a, state, "schedule") and not is_due(a, state, "grade")
        assert is_due(a, state, "manual") and is_due(a, state, "erasure")


def test_erasure_below_the_minimum_runs_only_while_a_model_serves(app):
    with app.app_context():
        a = make_assignment(min_graded=30)
        add_graded(a, 20)
        assert not is_due(a, training_state(a.id), "erasure"), "nothing to replace: no pointless failed run"
        put_model_in_service(a)
        assert is_due(a, training_state(a.id), "erasure"), "the model may hold the erased essays"
        assert not is_due(a, training_state(a.id), "manual")


def test_min_graded_below_the_pipeline_minimum_counts_as_the_minimum(app):
    with app.app_context():
        a = make_assignment(min_graded=5, retrain_every=1)
        add_graded(a, pipeline.MIN_GRADED - 1)
        state = training_state(a.id)
        assert not any(is_due(a, state, r) for r in ("grade", "threshold", "schedule", "manual"))
        assert due_retraining(24) == []
        add_graded(a, 1)
        assert is_due(a, training_state(a.id), "grade") and due_retraining(24) == [(a.id, "threshold")]


def test_the_pipeline_minimum_is_what_the_trainer_needs_after_the_held_out_essays():
    from worker.ml.examples import Examples
    from worker.ml.retrain import holdout_indices
    from worker.ml.trainer import MIN_EXAMPLES

    def left_to_fit(n):
        ex = Examples(texts=[f"essay {i}" for i in range(n)], scores=[1 + i % 6 for i in range(n)],
                      score_min=1, score_max=6)
        return n - len(holdout_indices(ex, None, seed=n)[0])

    assert left_to_fit(pipeline.MIN_GRADED) >= MIN_EXAMPLES > left_to_fit(pipeline.MIN_GRADED - 1)


def test_failed_runs_back_off_until_a_new_grade_or_the_delay(app):
    with app.app_context():
        a = make_assignment(min_graded=15, retrain_every=5)
        add_graded(a, 20, age=timedelta(hours=3))
        db.session.add(TrainingRun(assignment_id=a.id, status="failed", started_at=utcnow() - timedelta(minutes=5)))
        db.session.commit()
        state = training_state(a.id)
        assert (state.failures, state.grades_since_failure) == (1, 0)
        for reason in ("grade", "threshold", "schedule"):
            assert not is_due(a, state, reason), reason
        assert is_due(a, state, "manual") and is_due(a, state, "erasure"), "a person asked: no back-off"
        assert due_retraining(24) == [], "the scheduler does not re-emit it every 10 minutes"

        add_graded(a, 1)   # the data changed since the failed run
        state = training_state(a.id)
        assert state.grades_since_failure == 1 and is_due(a, state, "grade")
        assert due_retraining(24) == [(a.id, "threshold")]


def test_the_back_off_doubles_per_consecutive_failure_up_to_a_day(app):
    assert [backoff_delay(n) for n in (0, 1, 2, 3, 5, 6, 40)] == [timedelta(0), timedelta(hours=1),
                                                                  timedelta(hours=2), timedelta(hours=4),
                                                                  timedelta(hours=16), timedelta(hours=24),
                                                                  timedelta(hours=24)]
    with app.app_context():
        a = make_assignment(min_graded=15, retrain_every=5)
        add_graded(a, 20, age=timedelta(hours=30))   # after the last finished run, before the failures
        now = utcnow()
        db.session.add(TrainingRun(assignment_id=a.id, status="done", started_at=now - timedelta(days=2)))
        db.session.add(TrainingRun(assignment_id=a.id, status="failed", started_at=now - timedelta(hours=4)))
        db.session.add(TrainingRun(assignment_id=a.id, status="failed", started_at=now - timedelta(hours=60)))
        db.session.commit()
        state = training_state(a.id)
        assert state.failures == 1, "only failures since the last finished run count"
        assert is_due(a, state, "threshold"), "1 h after one failure, 4 h ago"
        for hours in (3, 2.5):
            db.session.add(TrainingRun(assignment_id=a.id, status="failed", started_at=now - timedelta(hours=hours)))
        db.session.commit()
        state = training_state(a.id)
        assert state.failures == 3 and not is_due(a, state, "threshold"), "4 h after the third, 2.5 h ago"


def _job(app, payload, message_id="m1"):
    return SimpleNamespace(app=app, payload=payload, message_id=message_id, worker_id="host:1:abc",
                           settings=WorkerSettings.from_app(app))


def test_the_handler_passes_the_reason_and_its_lease(app, monkeypatch):
    calls = []

    def fake_train(app_, assignment_id, *, reason=None, lease=None, progress=None):
        calls.append((assignment_id, reason, lease.confirm()))
        raise pipeline.LeaseLost("the training lease was lost before promoting version 2")

    monkeypatch.setattr(pipeline, "train_assignment", fake_train)
    with app.app_context():
        a = make_assignment(min_graded=15)
        add_graded(a, 15)
        put_model_in_service(a)
        training.on_training_due(_job(app, {"assignment_id": a.id, "reason": "erasure"}))   # no retry
        assert calls == [(a.id, "erasure", True)]
        from worker import leases

        assert leases.holder(training.lease_key(a.id)) is None


@pytest.mark.parametrize("reason", ["schedule", "threshold"])
def test_the_handler_skips_a_backing_off_assignment(app, monkeypatch, reason):
    monkeypatch.setattr(pipeline, "train_assignment", lambda *a, **k: pytest.fail("must not train"))
    with app.app_context():
        a = make_assignment(min_graded=15, retrain_every=1)
        add_graded(a, 20, age=timedelta(hours=1))
        db.session.add(TrainingRun(assignment_id=a.id, status="failed", started_at=utcnow()))
        db.session.commit()
        training.on_training_due(_job(app, {"assignment_id": a.id, "reason": reason}))
