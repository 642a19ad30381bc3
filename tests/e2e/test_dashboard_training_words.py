"""The dashboard's training status as a teacher reads it (a teacher's walk-through): after "Train
now" it shows the request, not the last run's "finished 100%" beside it; the worker's phase names
("features", "cross-validation", "frozen-ridge") reach the page as plain words; and a version turned
down for agreeing less than the one in use says so in words, with its numbers."""
from __future__ import annotations

import re

import pytest

from lti_app.dashboard import report
from lti_app.events import record_event
from lti_app.extensions import db
from lti_app.models import TrainingRun
from tests.e2e.test_dashboard_teacher_wording import _held, _plain, _rejected_after_promoted
from tests.e2e.test_review_and_dashboard import _teacher, world  # noqa: F401  (world: a fixture)
from worker.ml.pipeline import STAGES, TRAIN_PHASES

# What the worker records in TrainingRun.phase: its first phase, the pipeline's stages, trainer.train's.
WORKER_PHASES = ["data", *STAGES, *TRAIN_PHASES, "done"]
JARGON = ("features", "cross-validation", "frozen-ridge", "fine-tune", "refit", "export", "evaluation",
          "promotion gate", "QWK", "epoch", "loss", "CV ")


def _run(app, world, **fields) -> None:
    with app.app_context():
        db.session.add(TrainingRun(assignment_id=world.assignment_a, **fields))
        db.session.commit()


def _status(app, world) -> dict:
    with app.app_context():
        return report.training_status(world.assignment_a)


def test_a_request_after_a_finished_run_shows_only_the_request(app, client, world):
    _run(app, world, status="done", phase="done", step=4, total_steps=4, message="Version 1 is in service.")
    with app.app_context():
        record_event("training.due", {"assignment_id": world.assignment_a, "reason": "manual"})
        db.session.commit()
    status = _status(app, world)
    assert status["requested"] and "requested" in status["label"], status["label"]
    for said in (status["label"], status["announce"], status["svg"]):
        assert "finished" not in said and "100% complete" not in said, said
    assert status["fraction"] == 0.0
    _teacher(client, app, world)
    page = client.get(f"/dashboard/a/{world.assignment_a}").get_data(as_text=True)
    training = re.search(r'id="training"[^>]*>(.*?)</div>', page, re.S).group(1)
    assert "Training finished" not in training and "requested" in training


@pytest.mark.parametrize("phase", WORKER_PHASES)
def test_every_phase_the_worker_records_reads_as_plain_words(app, world, phase):
    _run(app, world, status="running", phase=phase, step=1, total_steps=10,
         message="frozen-ridge chosen (CV QWK {'frozen-ridge': 0.8})")
    status = _status(app, world)
    for said in (status["label"], status["announce"], status["message"]):
        assert not any(word in said for word in JARGON), said
    assert status["label"].startswith("Training: ") and status["label"] != "Training: "


def test_the_phases_name_what_a_teacher_would_recognise(app, world):
    words = {}
    for phase in ("features", "cross-validation", "export"):
        with app.app_context():
            db.session.query(TrainingRun).delete()
            db.session.commit()
        _run(app, world, status="running", phase=phase, step=1, total_steps=10)
        words[phase] = _status(app, world)["label"]
    assert words == {"features": "Training: reading the essays", "cross-validation": "Training: trying approaches",
                     "export": "Training: checking the new version"}


def test_a_version_that_agreed_less_says_so_in_plain_words(app, client, world):
    _rejected_after_promoted(app, world)   # version 2: QWK 0.696, below the bar and below version 1's 0.720
    _teacher(client, app, world)
    page = client.get(f"/dashboard/a/{world.assignment_a}").get_data(as_text=True)
    message = _plain(re.search(r'id="training-message">(.*?)</p>', page, re.S).group(1))
    assert ("The new version agreed with your grades less than the one in use (0.696 vs 0.720), so the one in use "
            "stays.") in message, message
    assert message.startswith("Version 2 ") and "0.70" in message, message
    assert "promotion gate" not in message and "does not beat" not in message, message


def test_a_version_put_in_use_says_so_in_plain_words(app, client, world):
    with app.app_context():
        from lti_app.models import Assignment, ModelVersion

        version = ModelVersion(assignment_id=world.assignment_a, version=1, status="promoted",
                               approach="frozen-ridge", path="/nonexistent/v1", n_train=40,
                               metrics={"held_out": _held(0.812), "n_held_out": 20, "n_examples": 40}, gate={"promote": True, "reasons": ["passed: QWK 0.812"]})
        db.session.add(version)
        db.session.flush()
        db.session.get(Assignment, world.assignment_a).current_model_id = version.id
        db.session.add(TrainingRun(assignment_id=world.assignment_a, status="done", phase="done", step=4,
                                   total_steps=4, model_version_id=version.id,
                                   message="Version 1 passed the promotion gate and is in service (QWK 0.812)."))
        db.session.commit()
    status = _status(app, world)
    assert status["message"] == ("Version 1 passed the quality checks and scores new essays. It agreed with "
                                 "your grades 0.812 on essays kept back to test it."), status["message"]
    _teacher(client, app, world)
    page = client.get(f"/dashboard/a/{world.assignment_a}").get_data(as_text=True)
    assert "Promotion gate" not in page and "promotion gate" not in page
