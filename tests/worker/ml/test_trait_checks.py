"""Trait scores are measured and judged like the overall score: each trait's agreement with the
teacher on the held-out essays (only essays the teacher scored for it), the overall score's
validity checks on it, and half points going up in training, in the cut points and in the
parity check, as the overall score's do. The held-out model is a stand-in whose answers the
test chooses (training itself is covered by test_traits.py); parity runs a real ONNX graph."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from tests.worker.ml import tinymodel
from worker.ml import gate, modelfiles, retrain as retrain_mod, rounding, trait_checks, trainer
from worker.ml.examples import Examples, Target
from worker.ml.metrics import compute_metrics


def _course(n: int = 50, content=None) -> Examples:
    scores = [1 + i % 6 for i in range(n)]
    content = content or [{"content": s, "style": s} for s in scores]
    return Examples(texts=[f"essay {i}" for i in range(n)], scores=scores, score_min=1, score_max=6,
                    traits=[{"name": "content", "min": 1, "max": 6}, {"name": "style", "min": 1, "max": 6}],
                    trait_scores=content, submission_ids=list(range(1, n + 1)), had_proposal=[False] * n)


def _held_out_model(monkeypatch, answer):
    """The held-out model answers `answer(text, overall)` per essay: [overall, content, style]."""
    class Model:
        approach = "frozen-ridge"

        def __init__(self, lookup):
            self.lookup = lookup

        def predict(self, texts):
            return np.array([answer(t, self.lookup[t]) for t in texts], dtype=float)

    monkeypatch.setattr(retrain_mod, "train", lambda examples, *a, **k: Model(lookup))
    lookup: dict = {}
    return lookup


def test_each_trait_is_measured_on_the_held_out_essays_and_judged_like_the_overall_score(monkeypatch):
    """Overall right, content always 1 (QWK 0 against the teacher), style right: the version is
    still promoted on its overall score, and its figures and verdicts show content failing."""
    ex = _course()
    lookup = _held_out_model(monkeypatch, lambda text, s: [s, 1, s])
    lookup.update(zip(ex.texts, ex.scores))
    result = retrain_mod.retrain(ex, config=SimpleNamespace(seed=0))
    traits = result.metrics["traits"]
    assert set(traits) == {"content", "style"}
    assert traits["content"]["n"] == len(result.held) and traits["content"]["qwk"] < 0.1
    assert traits["style"]["qwk"] == 1.0
    decision = gate.decide(result.metrics, None)
    assert decision["promote"]
    trait_checks.record(decision, ["content", "style"], result.metrics["traits"])
    assert decision["traits"]["style"] == {"passed": True, "reasons": []}
    assert not decision["traits"]["content"]["passed"]
    assert "below 0.70" in decision["traits"]["content"]["reasons"][0]
    assert any(r.startswith("trait 'content': QWK") for r in decision["reasons"])
    assert trait_checks.withheld(decision, ["content", "style"]) == ["content"]


def test_only_essays_the_teacher_scored_for_a_trait_count_and_none_means_not_measured(monkeypatch):
    """Training borrows a missing trait score from the overall one: that is not the teacher's
    judgement of the trait, so it is never judged on. A trait no held-out essay has fails as
    not measured; a version with no trait figures at all (trained before these checks) has all its
    trait scores withheld."""
    ex = _course(content=[{"content": 1 + i % 6} if i % 2 else {} for i in range(50)])
    lookup = _held_out_model(monkeypatch, lambda text, s: [s, s, s])
    lookup.update(zip(ex.texts, ex.scores))
    result = retrain_mod.retrain(ex, config=SimpleNamespace(seed=0))
    held = ex.subset(result.held)
    assert result.metrics["traits"]["content"]["n"] == sum(1 for t in held.trait_scores if "content" in t)
    assert result.metrics["traits"]["style"] == {"n": 0}
    verdicts = trait_checks.judge(["content", "style"], result.metrics["traits"])
    assert verdicts["content"]["passed"]
    assert verdicts["style"] == {"passed": False, "reasons": [trait_checks.NOT_MEASURED]}
    assert trait_checks.withheld({"promote": True}, ["content", "style"]) == ["content", "style"]
    assert trait_checks.withheld(None, ["content"]) == ["content"]
    assert trait_checks.withheld({"traits": {"content": {"passed": True, "reasons": []}}}, ["content"]) == []


def test_a_trait_needs_five_essays_with_the_teachers_score():
    """The overall score is never judged on fewer than 5 held-out essays, nor a group gated on
    fewer: a trait the model matched on 2 essays is no evidence that it agrees with the teacher."""
    two = trait_checks.judge(["content"], {"content": compute_metrics([2, 4], [2.0, 4.0], 1, 6)})
    assert not two["content"]["passed"]
    assert two["content"]["reasons"] == ["only 2 of the essays kept back have your score for this trait "
                                         "(at least 5 are needed)"]
    five = trait_checks.judge(["content"], {"content": compute_metrics([1, 2, 3, 4, 5], [1.0, 2, 3, 4, 5], 1, 6)})
    assert five["content"] == {"passed": True, "reasons": []}


def test_a_later_measurement_replaces_the_verdicts_and_says_where_its_figures_come_from():
    figures = {"content": compute_metrics([1, 2, 3, 4, 5], [1.0, 2, 3, 4, 5], 1, 6)}
    old = {"promote": True, "reasons": ["passed: QWK 0.810"]}
    new = trait_checks.remeasure(old, {}, ["content"], figures, "2026-01-01T00:00:00", 3)
    assert new["traits"] == {"content": {"passed": True, "reasons": []}} and new["reasons"] == old["reasons"]
    assert new["traits_measured"] == {"at": "2026-01-01T00:00:00", "by_version": 3, "figures": figures}
    assert trait_checks.figures(new, {"held_out": {"traits": {"content": {"n": 0}}}}) == figures
    assert not trait_checks.never_measured(new) and trait_checks.never_measured(old)


def test_a_later_measurement_on_too_few_essays_keeps_a_verdict_and_rewrites_the_reasons():
    """The newest grades are kept back and approvals as proposed do not count: a trait that passed
    must not be left out again because a later training found no essays to judge it on; a trait
    the later one judged replaces its verdict, and the gate's reasons say the same as the verdicts
    (the dashboard prints both)."""
    good = compute_metrics([1, 2, 3, 4, 5, 6], [1.0, 2, 3, 4, 5, 6], 1, 6)
    bad = compute_metrics([1, 2, 3, 4, 5, 6], [6.0, 5, 4, 3, 2, 1], 1, 6)
    old = {"promote": True, "reasons": ["passed: QWK 0.810", "trait 'style': QWK -1.000 is below 0.70 (x)"],
           "traits": {"content": {"passed": True, "reasons": []}, "style": {"passed": False, "reasons": ["x"]}}}
    metrics = {"held_out": {"traits": {"content": good, "style": bad}}}
    none_enough = trait_checks.remeasure(old, metrics, ["content", "style"], {"content": {"n": 0}, "style": {"n": 2}},
                                         "2026-01-01T00:00:00", 3)
    assert none_enough == old, "nothing measured on enough essays: nothing changes"
    later = trait_checks.remeasure(old, metrics, ["content", "style"], {"content": {"n": 0}, "style": good},
                                   "2026-01-01T00:00:00", 3)
    assert later["traits"] == {"content": {"passed": True, "reasons": []}, "style": {"passed": True, "reasons": []}}
    assert later["traits_measured"]["figures"] == {"content": good, "style": good}
    assert later["reasons"] == ["passed: QWK 0.810"], "no reason left about a trait that now passes"
    worse = trait_checks.remeasure(old, metrics, ["content", "style"], {"content": bad, "style": {"n": 1}},
                                   "2026-01-01T00:00:00", 3)
    assert not worse["traits"]["content"]["passed"] and not worse["traits"]["style"]["passed"]
    assert [r.split(":")[0] for r in worse["reasons"][1:]] == ["trait 'content'", "trait 'style'"]


def test_trait_half_points_go_up_in_the_cut_points(monkeypatch):
    """A teacher's 2.5, 3.5 and 4.5 on a trait tune its cut points as 3, 4 and 5, as the overall
    score's halves go (`np.rint` made them 2, 4 and 4)."""
    seen = []
    real = rounding.fit_cuts

    def fit_cuts(raw, y, lo, hi):
        seen.append(np.asarray(y).tolist())
        return real(raw, y, lo, hi)

    monkeypatch.setattr(rounding, "fit_cuts", fit_cuts)
    Y = np.array([[3.0, 2.5], [4.0, 3.5], [5.0, 4.5]])
    trainer._cut_points((Y - 1) / 5, Y, [Target("overall", 1, 6), Target("content", 1, 6)])
    assert seen == [[3, 4, 5], [3, 4, 5]]
    assert rounding.half_up([0.5, 1.5, 2.5, 2.49, 6.0]).tolist() == [1, 2, 3, 2, 6]


def test_the_parity_check_rounds_half_points_up(tmp_path):
    """The int8-vs-torch check compares both with the teacher's scores, halves going up: the
    torch model that gives 3, 4, 5 to teacher scores 2.5, 3.5, 4.5 agrees exactly."""
    from worker.ml.export import parity

    model_dir = tinymodel.make_version(tmp_path / "v1", raw=0.4)
    trained = SimpleNamespace(targets=[Target("overall", 1, 6)], cuts=[rounding.default_cuts(1, 6)])
    texts = ["one essay", "two essay", "three essay", "four essay", "five essay"]
    torch_raw = np.array([[3.0], [4.0], [5.0], [1.0], [6.0]])
    out = parity(trained, model_dir, modelfiles.ONNX_FP32, texts, [2.5, 3.5, 4.5, 1, 6], torch_raw=torch_raw)
    assert out["qwk_torch"] == 1.0
