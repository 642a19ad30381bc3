"""The "beats the current model" check when too few held-out essays are new to the current model
(`retrain.holdout_indices` returns fair=False: the daily retrain after a few new grades). Scoring
the current model again there judged it mostly on essays it learnt from, where it looks far
better than it is, so no new model could win, and the reason claimed "on the same held-out
essays". Now the new model's held-out QWK is compared with the current model's QWK on its own
held-out essays, recorded when it was trained, and the words say so. Training is faked
(test_pipeline_guards.FakeTraining: `current_qwk` is what scoring the current model again on
the held-out essays would give), the database and the model files are real."""
from __future__ import annotations

import pytest

from lti_app.dashboard import report, wording
from lti_app.extensions import db
from lti_app.models import ModelVersion, TrainingRun
from tests.worker.ml.test_pipeline_guards import FakeTraining, course  # noqa: F401  (fixture)
from worker.ml import pipeline


class FewNew(FakeTraining):
    """Held-out essays unseen by the current model (`fair`) or not, as the test says."""

    fair = True

    def retrain(self, *args, **kwargs):
        result = super().retrain(*args, **kwargs)
        result.fair = self.fair
        return result


@pytest.fixture
def fake(monkeypatch):
    return FewNew(monkeypatch)


def _v1(app, aid, fake) -> None:
    fake.new_qwk = 0.80   # v1's QWK on its own held-out essays (5 of them)
    assert pipeline.train_assignment(app, aid).status == "promoted"
    fake.fair = False
    fake.current_qwk = 0.95   # v1 again on held-out essays it mostly learnt from


def _message(app, version: ModelVersion) -> str:
    with app.app_context():
        run = db.session.scalar(db.select(TrainingRun).where(TrainingRun.model_version_id == version.id))
        return wording.verdict(db.session.get(ModelVersion, version.id), run.message)


def test_a_better_model_wins_against_the_current_models_own_test_figure(course, fake):
    app, aid = course.app, course.aid
    _v1(app, aid, fake)
    fake.new_qwk = 0.85   # better than v1 on unseen essays, below v1 on its own training essays
    v2 = pipeline.train_assignment(app, aid)
    assert v2.status == "promoted", v2.gate["reasons"]
    assert v2.gate["checks"]["beats_current"] is True and v2.gate["fair_holdout"] is False
    assert v2.metrics["current_on_held_out"] is None
    assert v2.metrics["current_own_test"] == {"version": 1, "qwk": 0.80, "n": 5}
    claims = [r for r in v2.gate["reasons"] if "same held-out" in r or "> current" in r or "0.950" in r]
    assert not claims, v2.gate["reasons"]
    assert any("0.850 > the current model's 0.800 on the 5 essays held back to test it when it was trained" in r
               for r in v2.gate["reasons"]), v2.gate["reasons"]


def test_a_worse_model_is_refused_in_words_that_do_not_claim_the_same_essays(course, fake):
    app, aid = course.app, course.aid
    _v1(app, aid, fake)
    fake.new_qwk = 0.75
    v2 = pipeline.train_assignment(app, aid)
    assert v2.status == "rejected" and v2.gate["checks"]["beats_current"] is False
    assert not any(r.startswith("passed") or "same held-out" in r for r in v2.gate["reasons"]), v2.gate["reasons"]
    assert "QWK 0.750 does not beat the current model's 0.800 on the 5 essays held back" in v2.gate["reasons"][-1]
    said = _message(app, v2)
    assert said.startswith("Version 2 was not put in use. The new version agreed with your grades less (0.750) "
                           "than the one in use did on the essays kept back to test it (0.800)"), said
    with app.app_context():   # the quality report's "why two numbers" note is about a rescoring: none here
        v1 = db.session.scalar(db.select(ModelVersion).filter_by(assignment_id=aid, version=1))
        assert report.comparison_note(db.session.get(ModelVersion, v2.id), v1) == ""


def test_a_current_model_whose_files_cannot_be_used_does_not_block_its_replacement(course, fake):
    app, aid = course.app, course.aid
    _v1(app, aid, fake)
    with app.app_context():
        v1 = db.session.scalar(db.select(ModelVersion).filter_by(assignment_id=aid, version=1))
        v1.gate = {**v1.gate, "unreadable": {"at": "now", "detail": "model.onnx: no such file"}}
        db.session.commit()
    fake.new_qwk = 0.75
    v2 = pipeline.train_assignment(app, aid)
    assert v2.status == "promoted" and v2.gate["checks"]["beats_current"] is None
    assert any(r.startswith("not compared with the current model v1") for r in v2.gate["reasons"])


def test_when_enough_essays_are_new_both_are_scored_on_the_same_ones(course, fake):
    app, aid = course.app, course.aid
    _v1(app, aid, fake)
    fake.fair, fake.new_qwk = True, 0.85
    v2 = pipeline.train_assignment(app, aid)
    assert v2.status == "rejected" and v2.metrics["current_on_held_out"]["qwk"] == 0.95
    assert v2.metrics["current_own_test"] is None
