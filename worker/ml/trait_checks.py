"""Whether a course model's trait scores (Content, Organisation, ...) may reach students without
the teacher.

The promotion gate judges the overall score (docs/models.md). Each trait is measured on the same
held-out essays (`measure`, stored under `metrics["held_out"]["traits"]`) and judged by the very
checks the overall score must pass (`judge`: `gate.decide` without a current model, so QWK at
least `gate.MIN_QWK`, |SMD| at most `gate.MAX_SMD`, and the teacher's scores spread over two or
more points). A trait that fails does not stop the version from serving, but while any trait of
the version in service fails, or was never measured (versions trained before these checks), its
proposals are never auto-released: they wait in the review queue (`holds_release`, read by
`worker.handlers.scoring`; the dashboard says why). Plain Python: the scoring worker imports it.
"""
from __future__ import annotations

from worker.ml import gate
from worker.ml.metrics import compute_metrics
from worker.ml.rounding import half_up

NOT_MEASURED = "no essay kept back to test it has your score for this trait, so it could not be measured"


def measure(held, predictions) -> dict:
    """{trait name: `compute_metrics`} of the model's trait columns (`predictions`: one row per
    held-out essay of `held`, an `Examples`, one column per target) against the teacher's trait
    scores. Only essays the teacher gave that trait count: training borrows a missing trait score
    from the overall one, which is not the teacher's judgement of the trait."""
    out = {}
    for j, target in enumerate(held.targets[1:], 1):
        rows = [i for i, given in enumerate(held.trait_scores or []) if (given or {}).get(target.name) is not None]
        if not rows:
            out[target.name] = {"n": 0}
            continue
        teacher = half_up([held.trait_scores[i][target.name] for i in rows]).tolist()
        out[target.name] = compute_metrics(teacher, [float(predictions[i][j]) for i in rows], target.lo, target.hi)
    return out


def judge(names, trait_metrics: dict | None) -> dict:
    """{trait name: {"passed": bool, "reasons": [why not]}} for each of `names`: each trait by the
    overall score's validity checks (`gate.decide` with no model to beat); one without figures
    fails as not measured."""
    verdicts = {}
    for name in names:
        m = (trait_metrics or {}).get(name) or {}
        if not m.get("n"):
            verdicts[name] = {"passed": False, "reasons": [NOT_MEASURED]}
            continue
        decision = gate.decide(m, None)
        verdicts[name] = {"passed": bool(decision["promote"]),
                          "reasons": [r for r in decision["reasons"] if not r.startswith("passed: ")]}
    return verdicts


def record(decision: dict, names, trait_metrics: dict | None) -> None:
    """Store the verdicts on the traits `names` on the gate's decision (`decision["traits"]`) and
    add a reason for each failing one. The version is still promoted or refused on its overall score."""
    verdicts = judge(names, trait_metrics)
    decision["traits"] = verdicts
    for name, v in verdicts.items():
        if not v["passed"]:
            decision["reasons"].append(f"trait {name!r}: " + "; ".join(v["reasons"])
                                       + " (AI grades wait for review while a trait fails)")


def failing(gate_record: dict | None) -> dict[str, list[str]] | None:
    """{trait: reasons} for the traits of a version that failed their checks ({} when all passed);
    None when its traits were never measured (a version trained before trait checks)."""
    verdicts = (gate_record or {}).get("traits")
    if verdicts is None:
        return None
    return {name: v.get("reasons") or [] for name, v in verdicts.items() if not v.get("passed")}


def holds_release(gate_record: dict | None) -> bool:
    """Whether a version with trait outputs must leave every proposal to the teacher."""
    return failing(gate_record) != {}
