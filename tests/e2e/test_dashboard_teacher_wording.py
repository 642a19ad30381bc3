"""The dashboard as a teacher reads it after a rejected retrain (a reviewer's walk-through): a QWK
below the 0.70 bar never reads as 0.70, the model in service's two QWKs are explained, "learned
from" says why a rejected version learned from fewer essays, one training has one time, a version
that did not pass says so plainly, and a disabled "Train now" says why."""
from __future__ import annotations

import re
from datetime import datetime

from lti_app.extensions import db
from lti_app.models import Assignment, ModelVersion, TrainingRun
from tests.e2e.test_review_and_dashboard import _teacher, world  # noqa: F401  (world: a fixture)

CONFUSION = [[1 if i == j else 0 for j in range(6)] for i in range(6)]


def _plain(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def _row(page: str, version: int) -> str:
    return _plain(re.search(rf'<tr data-version="{version}">(.*?)</tr>', page, re.S).group(1))


def _held(qwk: float, n: int = 20) -> dict:
    return {"n": n, "qwk": qwk, "exact": 0.7, "adjacent": 1.0, "smd": -0.09, "scale": [1, 6],
            "confusion": CONFUSION}


def _rejected_after_promoted(app, world, *, finished=datetime(2026, 11, 29, 7, 35, 1)):
    """Version 1 in service (refit on all 100 grades after its test on 20); version 2 trained on
    82 of 102 (20 kept out), QWK 0.696: below the bar and below version 1's 0.720 on those essays."""
    with app.app_context():
        assignment = db.session.get(Assignment, world.assignment_a)
        v1 = ModelVersion(assignment_id=assignment.id, version=1, status="promoted", approach="frozen-ridge",
                          path="/nonexistent/v1", onnx_path="/nonexistent/v1/model.onnx", n_train=100,
                          created_at=datetime(2026, 11, 29, 7, 18), promoted_at=datetime(2026, 11, 29, 7, 18),
                          metrics={"held_out": _held(0.864), "refit_on_all": True, "n_held_out": 20,
                                   "n_examples": 100},
                          gate={"promote": True, "reasons": ["passed: QWK 0.864, SMD -0.093"],
                                "checks": {"qwk": True, "smd": True}})
        v2 = ModelVersion(assignment_id=assignment.id, version=2, status="rejected", approach="frozen-ridge",
                          path="/nonexistent/v2", onnx_path=None, n_train=82,
                          created_at=datetime(2026, 11, 29, 7, 35, 0),
                          metrics={"held_out": _held(0.696), "current_on_held_out": _held(0.72),
                                   "refit_on_all": False, "n_held_out": 20, "n_examples": 102},
                          gate={"promote": False,
                                "reasons": ["QWK 0.696 is below 0.70",
                                            "QWK 0.696 does not beat the current model's 0.720 on the same "
                                            "held-out essays"],
                                "checks": {"qwk": False, "smd": True, "beats_current": False}})
        db.session.add_all([v1, v2])
        db.session.flush()
        assignment.current_model_id = v1.id
        # The run started at 7:34:50 and recorded its version at 7:35:00, finishing a second later.
        db.session.add(TrainingRun(assignment_id=assignment.id, status="done", phase="done", step=4, total_steps=4,
                                   started_at=datetime(2026, 11, 29, 7, 34, 50), finished_at=finished,
                                   model_version_id=v2.id,
                                   message="Version 2 did not pass the promotion gate and is not in service: "
                                           "QWK 0.696 is below 0.70; QWK 0.696 does not beat the current "
                                           "model's 0.720 on the same held-out essays."))
        db.session.commit()


def test_a_qwk_below_the_bar_never_reads_as_meeting_it(app, client, world):
    _rejected_after_promoted(app, world)
    _teacher(client, app, world)
    page = client.get(f"/dashboard/a/{world.assignment_a}").get_data(as_text=True)
    assert "0.696" in _row(page, 2) and not re.search(r"\b0\.70\b", _row(page, 2))
    assert "0.864" in _row(page, 1)
    assert "QWK vs your grades <strong>0.864</strong>" in page, "the same figure as the gate's 'passed: QWK 0.864'"


def test_the_model_in_service_two_qwks_are_explained(app, client, world):
    _rejected_after_promoted(app, world)
    _teacher(client, app, world)
    page = client.get(f"/dashboard/a/{world.assignment_a}").get_data(as_text=True)
    note = _plain(re.search(r'<p class="muted" id="gate-note">(.*?)</p>', page, re.S).group(1))
    assert note.startswith("Why two numbers:")
    assert "scored again on the 20 essays held back to test version 2, and got 0.720 there" in note
    assert "The 0.864 in the quality report is from its own test essays" in note


def test_learned_from_says_why_a_rejected_version_learned_from_fewer(app, client, world):
    _rejected_after_promoted(app, world)
    _teacher(client, app, world)
    page = client.get(f"/dashboard/a/{world.assignment_a}").get_data(as_text=True)
    assert "82 (the other 20 were held back to test it)" in _row(page, 2)
    assert "100 (20 of them first held back to test it)" in _row(page, 1)


def test_one_training_has_one_time(app, client, world):
    _rejected_after_promoted(app, world)
    _teacher(client, app, world)
    page = client.get(f"/dashboard/a/{world.assignment_a}").get_data(as_text=True)
    last = re.search(r'id="last-trained">(.*?)</span>', page, re.S).group(1)
    assert "07:35" in last and last in page.split('data-version="2"')[1].split("</tr>")[0]


def test_one_training_has_one_time_across_a_minute(app, client, world):
    _rejected_after_promoted(app, world, finished=datetime(2026, 11, 29, 7, 36, 0))
    _teacher(client, app, world)
    page = client.get(f"/dashboard/a/{world.assignment_a}").get_data(as_text=True)
    last = re.search(r'id="last-trained">(.*?)</span>', page, re.S).group(1)
    assert last in page.split('data-version="2"')[1].split("</tr>")[0]


def test_versions_that_cannot_serve_are_described_plainly(app, client, world):
    _rejected_after_promoted(app, world)
    _teacher(client, app, world)
    page = client.get(f"/dashboard/a/{world.assignment_a}").get_data(as_text=True)
    said = _plain(page)
    assert "Not used: it did not pass the checks" in _row(page, 2)
    for jargon in ("exported model", "on disk", "only versions that passed the gate", "language model"):
        assert jargon not in said, jargon
    assert "Version 1 is scoring new essays (a quick model that learned from 100 of your graded essays" in said


def test_a_disabled_train_now_says_why(app, client, world):
    _teacher(client, app, world)   # one graded essay; training needs 30
    page = client.get(f"/dashboard/a/{world.assignment_a}").get_data(as_text=True)
    button = re.search(r'<button[^>]*id="train-now"[^>]*>', page).group(0)
    assert "disabled" in button
    described = re.search(r'aria-describedby="([^"]+)"', button)
    assert described, button
    why = re.search(rf'id="{described.group(1)}"[^>]*>(.*?)</span>', page, re.S).group(1)
    assert "30 graded essays" in why and "1 so far" in why, why


def test_the_reason_names_the_minimum_training_uses(app, client, world):
    with app.app_context():   # a setting below what training needs counts as that minimum (15)
        db.session.get(Assignment, world.assignment_a).min_graded = 1
        db.session.commit()
    _teacher(client, app, world)
    page = client.get(f"/dashboard/a/{world.assignment_a}").get_data(as_text=True)
    assert "15 graded essays" in re.search(r'id="train-short"[^>]*>(.*?)</span>', page, re.S).group(1)
