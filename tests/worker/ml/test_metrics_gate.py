"""Agreement metrics and the promotion gate's decisions."""
from __future__ import annotations

import json

import numpy as np
from sklearn.metrics import cohen_kappa_score

from worker.ml import gate
from worker.ml.metrics import compute_metrics, confusion, qwk, smd
from worker.ml.rounding import apply_cuts, confidence, fit_cuts


def test_qwk_matches_sklearn():
    rng = np.random.default_rng(0)
    y = rng.integers(1, 7, 200)
    p = np.clip(y + rng.integers(-1, 2, 200), 1, 6)
    assert abs(qwk(y, p, 1, 6) - cohen_kappa_score(y, p, weights="quadratic")) < 1e-9
    assert qwk(y, y, 1, 6) == 1.0


def test_smd_and_confusion():
    y = [1, 2, 3, 4, 5, 6] * 5
    assert smd(y, y) == 0.0
    assert smd(y, [v + 1 for v in y]) > 0.5            # machine scores higher: positive
    # A group where teacher and machine are each constant (two essays are enough): the figure is
    # stored as JSON in PostgreSQL, which refuses Infinity; it stays finite and fails the gate.
    stuck = compute_metrics([3, 3, 3, 3, 3], [4, 4, 4, 4, 4], 1, 6, groups=["g"] * 5)
    assert json.loads(json.dumps(stuck, allow_nan=False))["smd_by_group"]["g"]["smd"] > 10
    assert not gate.decide({**stuck, "qwk": 0.9}, None)["promote"]
    mat = confusion(y, y, 1, 6)
    assert np.trace(mat) == 30 and len(mat) == 6


def test_metrics_report_groups():
    y = [3, 4, 3, 4, 3, 4, 2, 5, 3, 4]
    p = [3, 4, 3, 4, 4, 5, 3, 5, 4, 5]
    groups = ["a"] * 5 + ["b"] * 5
    m = compute_metrics(y, p, 1, 6, groups)
    assert set(m) >= {"qwk", "exact", "adjacent", "smd", "confusion", "n", "smd_by_group"}
    assert m["smd_by_group"]["b"]["smd"] > m["smd_by_group"]["a"]["smd"]


def _metrics(qwk_value, smd_value=0.0, groups=None):
    return {"qwk": qwk_value, "smd": smd_value, "smd_by_group": groups or {}, "scale": [1, 3],
            "confusion": [[2, 1, 0], [1, 3, 1], [0, 1, 2]]}


def test_gate_refuses_when_every_held_out_essay_has_the_same_teacher_score():
    """QWK is undefined then and read 1.000 for a model that gives everyone that score; its
    confidence cleared the auto-release threshold."""
    constant = compute_metrics([5] * 6, [5] * 6, 1, 6)
    assert constant["qwk"] == 1.0 and constant["smd"] == 0.0
    d = gate.decide(constant, None)
    assert not d["promote"] and not d["checks"]["spread"]
    assert any("all have the teacher's score 5" in r for r in d["reasons"])
    assert gate.decide(compute_metrics([4, 5, 5, 5, 4, 5], [4, 5, 5, 5, 4, 5], 1, 6), None)["promote"]


def test_gate_refuses_a_worse_model():
    d = gate.decide(_metrics(0.78), _metrics(0.81))
    assert not d["promote"] and not d["checks"]["beats_current"]
    assert any("does not beat" in r for r in d["reasons"])


def test_gate_refuses_low_qwk_and_bias():
    assert not gate.decide(_metrics(0.65), None)["promote"]
    biased = gate.decide(_metrics(0.85, smd_value=0.2), None)
    assert not biased["promote"] and any("SMD" in r for r in biased["reasons"])
    group = gate.decide(_metrics(0.85, groups={"ELL": {"n": 12, "smd": -0.14}}), None)
    assert not group["promote"] and any("ELL" in r for r in group["reasons"])
    tiny_group = gate.decide(_metrics(0.85, groups={"x": {"n": 2, "smd": 0.9}}), None)
    assert tiny_group["promote"]                  # two essays are reported, not gated


def test_gate_accepts_a_better_unbiased_model():
    d = gate.decide(_metrics(0.83, 0.05, {"a": {"n": 10, "smd": 0.05}}), _metrics(0.80))
    assert d["promote"] and d["reasons"][0].startswith("passed")


def test_after_an_erasure_only_the_comparison_with_the_current_model_is_left_out():
    worse = gate.decide(_metrics(0.75), _metrics(0.81), must_beat_current=False)
    assert worse["promote"] and worse["checks"]["beats_current"] is None
    assert any("trained on deleted essays" in r and "0.810" in r for r in worse["reasons"])
    assert worse["reasons"][-1].startswith("passed: QWK 0.750,")
    for invalid in (_metrics(0.65), _metrics(0.85, smd_value=0.2),
                    _metrics(0.85, groups={"ELL": {"n": 12, "smd": -0.14}})):
        assert not gate.decide(invalid, _metrics(0.5), must_beat_current=False)["promote"]


def test_cut_points_and_confidence():
    rng = np.random.default_rng(1)
    y = rng.integers(1, 7, 300)
    raw = y + 0.4 + rng.normal(0, 0.3, 300)               # biased upwards: tuned cuts fix it
    cuts = fit_cuts(raw, y, 1, 6)
    assert qwk(y, apply_cuts(raw, cuts, 1), 1, 6) > qwk(y, np.clip(np.rint(raw), 1, 6), 1, 6)
    assert all(a < b for a, b in zip(cuts, cuts[1:]))
    assert confidence(3.0, [1.5, 2.5, 3.5, 4.5, 5.5], 1, 0.3) > confidence(3.45, [1.5, 2.5, 3.5, 4.5, 5.5], 1, 0.3)


def test_confidence_on_a_wide_scale_allows_five_percent_of_the_range():
    """On 0-100 a model 8 points off on average was never "confident" of the exact point (about
    0.05 mid-scale), so nothing was ever released at the default threshold 0.6. Within 5 points
    it is; the 1-6 and 2-10 scales keep their band as before."""
    hundred = [k + 0.5 for k in range(0, 100)]
    assert 0.45 < confidence(55.0, hundred, 0, 8.0) < 0.5          # P(|N(0, 8)| < 5) = 0.468
    assert confidence(55.0, hundred, 0, 3.0) > 0.9
    assert confidence(55.0, hundred, 0, 8.0) > confidence(55.0, hundred, 0, 12.0)
    six = [1.5, 2.5, 3.5, 4.5, 5.5]
    assert abs(confidence(3.2, six, 1, 0.4) - 0.7333) < 1e-3       # the band 2.5-3.5, unchanged
    ten = [k + 0.5 for k in range(2, 10)]
    assert abs(confidence(6.0, ten, 2, 0.5) - 0.6827) < 1e-3       # 2-10: the band, unchanged
