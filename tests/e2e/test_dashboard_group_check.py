"""The per-group check as the teacher reads it on the dashboard (reviewer "fair", F1/F2): a group
difference on too few essays is shown with its figure and "too few essays to tell", never as bias;
a clear one still refuses the version and says so; a held-out set without group labels says the
groups were not checked; and versions stored before this rule still render as they were judged."""
from __future__ import annotations

import re
from datetime import datetime
from html import unescape

from lti_app.extensions import db
from lti_app.models import Assignment, ModelVersion, TrainingRun
from tests.e2e.test_review_and_dashboard import _teacher, world  # noqa: F401  (world: a fixture)
from worker.ml import gate
from worker.ml.examples import Examples
from worker.ml.metrics import compute_metrics
from worker.ml.retrain import held_out_metrics, holdout_indices


def _plain(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def _store(app, world, held: dict, decision: dict) -> None:
    """Version 1 of assignment A, gated by `decision` on `held`, and the run that made it."""
    with app.app_context():
        assignment = db.session.get(Assignment, world.assignment_a)
        promote = decision["promote"]
        v = ModelVersion(assignment_id=assignment.id, version=1, status="promoted" if promote else "rejected",
                         approach="frozen-ridge", path="/nonexistent/v1", n_train=80,
                         onnx_path="/nonexistent/v1/model.onnx" if promote else None,
                         created_at=datetime(2026, 11, 29, 7, 18), promoted_at=datetime(2026, 11, 29, 7, 18) if promote
                         else None, metrics={"held_out": held, "n_examples": 100, "n_held_out": held["n"]},
                         gate=decision)
        db.session.add(v)
        db.session.flush()
        if promote:
            assignment.current_model_id = v.id
        detail = "; ".join(r.removeprefix("passed: ") for r in decision["reasons"])   # as `pipeline` writes it
        message = (f"Version 1 passed the promotion gate and is in service ({detail})." if promote
                   else f"Version 1 did not pass the promotion gate and is not in service: {detail}.")
        db.session.add(TrainingRun(assignment_id=assignment.id, status="done", phase="done", step=4, total_steps=4,
                                   started_at=datetime(2026, 11, 29, 7, 17), finished_at=datetime(2026, 11, 29, 7, 18),
                                   model_version_id=v.id, message=message))
        db.session.commit()


def _page(app, client, world) -> str:
    _teacher(client, app, world)
    return client.get(f"/dashboard/a/{world.assignment_a}").get_data(as_text=True)


def _message(page: str) -> str:
    return _plain(re.search(r'id="training-message">(.*?)</p>', page, re.S).group(1))


def _smd_chart(page: str) -> str:
    return _plain(page[page.index('Score difference by group'):])


def test_one_essay_off_in_a_group_of_ten_reads_too_few_essays_to_tell(app, client, world):
    teacher = [3] * 5 + [4] * 5 + [3] * 5 + [4] * 5
    held = compute_metrics(teacher, [4] + teacher[1:], 1, 6, ["Female"] * 10 + ["Male"] * 10)
    decision = gate.decide(held, None)
    _store(app, world, held, decision)
    page = _page(app, client, world)
    said = _message(page)
    assert said.startswith("Version 1 passed the quality checks"), said
    assert "For Female, there are too few essays to tell whether its scores differ from yours" in said
    assert "too far" not in page and "biased" not in page
    chart = _smd_chart(page)
    assert f"Female (n=10) {held['smd_by_group']['Female']['smd']:+.2f}, too few essays to tell" in chart
    assert "on so few essays the difference may be chance" in chart


def test_a_clear_difference_for_a_group_refuses_and_says_so(app, client, world):
    teacher = [2, 3, 4, 5] * 25
    model = [t + 1 if i < 12 else t for i, t in enumerate(teacher)]    # ELL: every essay a point high
    held = {**compute_metrics(teacher, model, 1, 6, ["ELL"] * 12 + ["other"] * 88), "qwk": 0.9}
    decision = gate.decide(held, None)
    assert decision["checks"]["smd"] and decision["checks"]["smd_group:ELL"] is False
    _store(app, world, held, decision)
    said = _message(_page(app, client, world))
    assert said.startswith("Version 1 was not put in use. Its scores for ELL were clearly above yours on average"), said
    assert "even allowing for chance" in said


def test_a_held_out_set_without_group_labels_says_the_groups_were_not_checked(app, client, world):
    """After version 1, the held-out set is this term's hand-ins (no LMS sends a group label) while
    the labels sit on last year's imports: the check did not run, and the teacher is told."""
    n_imported, n_new = 100, 24
    scores = ([2, 3, 3, 4, 5] * 40)[:n_imported + n_new]
    ex = Examples(texts=[f"e{i}" for i in range(n_imported + n_new)], scores=scores, score_min=1, score_max=6,
                  groups=["ELL" if i % 3 == 0 else "non-ELL" for i in range(n_imported)] + [None] * n_new,
                  submission_ids=list(range(1, n_imported + n_new + 1)), had_proposal=[False] * (n_imported + n_new))
    held_idx, fair = holdout_indices(ex, seen_ids=list(range(1, n_imported + 1)), seed=7)
    assert fair and all(i >= n_imported for i in held_idx)
    held = held_out_metrics(ex, held_idx, [scores[i] for i in held_idx])
    decision = gate.decide(held, None)
    assert decision["promote"] and gate.NO_GROUP_LABELS in decision["reasons"]
    _store(app, world, held, decision)
    page = _page(app, client, world)
    assert "Group differences not checked: none of the essays kept back has a group label." in _message(page)
    assert "group differences not checked: none of the essays kept back has a group label" in _plain(page)
    assert "Group differences not checked: none of the essays kept back has a group label." in _smd_chart(page)


def test_a_version_gated_before_the_interval_rule_still_renders(app, client, world):
    """Stored figures without `ci`, thresholds with group_min_n 5 and no rule name."""
    held = {"n": 20, "qwk": 0.82, "exact": 0.95, "adjacent": 1.0, "smd": 0.098, "scale": [1, 6],
            "confusion": [[1 if i == j else 0 for j in range(6)] for i in range(6)],
            "smd_by_group": {"Female": {"n": 10, "smd": 0.192, "small": False},
                             "Male": {"n": 10, "smd": 0.0, "small": False},
                             "Tiny": {"n": 2, "smd": 99.0, "small": True}}}
    decision = {"promote": False, "checks": {"spread": True, "qwk": True, "smd": True, "smd_group:Female": False},
                "reasons": ["group 'Female': |SMD| 0.192 exceeds 0.10 (n=10)"],
                "thresholds": {"min_qwk": 0.7, "max_smd": 0.15, "max_group_smd": 0.1, "group_min_n": 5}}
    _store(app, world, held, decision)
    page = _page(app, client, world)
    said = _message(page)
    assert "Its scores for Female were on average above yours by more than the 0.10 allowed (SMD +0.19 on 10 " \
           "essays). That older check did not allow for chance" in said, said
    chart = _smd_chart(page)
    assert "Female (n=10) 0.19 (outside" in chart and "Tiny (n=2) too few essays (n<5), not checked" in chart
