"""The per-group figures and the gate's verdict as the database stores them (SQLite and
PostgreSQL, whose json type refuses NaN and Infinity) and as the dashboard reads them back: the
interval of each group, a group too small for one, a held-out set without group labels."""
from __future__ import annotations

from types import SimpleNamespace as NS

import pytest

from lti_app.dashboard import report, wording
from lti_app.extensions import db
from lti_app.models import ModelVersion
from tests.worker.coursework import make_assignment
from worker.ml import gate
from worker.ml.examples import Examples
from worker.ml.metrics import compute_metrics
from worker.ml.retrain import held_out_metrics


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def stored_app(request, make_app):
    if request.param == "postgres":
        return request.getfixturevalue("pg_app")("memory://")
    return make_app()


def _stored(app, held: dict) -> tuple[dict, dict]:
    decision = gate.decide(held, None)
    with app.app_context():
        a = make_assignment()
        v = ModelVersion(assignment_id=a.id, version=1, status="promoted" if decision["promote"] else "rejected",
                         approach="ridge", path="/nonexistent", n_train=80, metrics={"held_out": held},
                         gate=decision)
        db.session.add(v)
        db.session.commit()
        vid = v.id
        db.session.expire_all()
        back = db.session.get(ModelVersion, vid)
        return back.metrics, back.gate


def test_group_figures_round_trip_and_render(stored_app):
    teacher = [3] * 5 + [4] * 5 + [3] * 5 + [4] * 5 + [2, 5]
    model = [4] + teacher[1:]
    metrics, decision = _stored(stored_app, compute_metrics(teacher, model, 1, 6,
                                                            ["Female"] * 10 + ["Male"] * 10 + ["x", "y "]))
    groups = metrics["held_out"]["smd_by_group"]
    assert groups["x"]["ci"] is None and groups["x"]["small"] and len(groups["Female"]["ci"]) == 2
    version = NS(version=1, status="promoted", metrics=metrics, gate=decision)
    rows, _ = report.smd_rows(version)
    assert rows["Female (n=10)"].endswith(", too few essays to tell")
    assert rows["x (n=1)"].endswith("too few essays to tell (n<5), not checked")
    assert any(note.startswith("For Female, there are too few essays to tell") for note in wording.group_notes(version))


def test_no_labels_held_out_is_stored_and_said(stored_app):
    ex = Examples(texts=["a", "b", "c", "d", "e", "f"], scores=[2, 3, 4, 5, 3, 4], score_min=1, score_max=6,
                  groups=["ELL", "ELL", None, None, None, None])
    metrics, decision = _stored(stored_app, held_out_metrics(ex, [2, 3, 4, 5], [3, 5, 3, 4]))
    assert metrics["held_out"]["labelled_outside_held_out"] == 2 and gate.NO_GROUP_LABELS in decision["reasons"]
    assert wording.group_notes(NS(metrics=metrics, gate=decision)) == [wording.NO_GROUP_LABELS]
