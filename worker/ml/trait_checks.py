"""Which of a course model's trait scores (Content, Organisation, ...) may reach students in
auto-released grades.

The promotion gate judges the overall score (docs/models.md). Each trait is measured on the same
held-out essays (`measure`, stored under `metrics["held_out"]["traits"]`), counting only the trait
scores the teacher chose (not an approved AI proposal's), and judged (`judge`, stored on
`gate["traits"]`): at least `MIN_ESSAYS` such essays, and the overall score's validity checks
(`gate.decide` without a current model: spread, QWK at least `gate.MIN_QWK`, |SMD| at most
`gate.MAX_SMD`). A trait never decides promotion nor holds a grade back: an auto-released grade
leaves out the scores of the traits that did not pass, or were never measured (versions trained
before these checks), and so does its written feedback (`withheld`, read by
`worker.handlers.scoring`, the dashboard and the settings hint). A false "not passed" on a
few essays thus only withholds one trait score, which the teacher can add on the grading page.
When a later training scores the serving version again on new held-out essays it measures its
traits too (`remeasure`), so a version trained before these checks is not withheld for ever.
Plain Python: the scoring worker imports it.
"""
from __future__ import annotations

from worker.ml import gate
from worker.ml.metrics import GROUP_MIN_N, compute_metrics
from worker.ml.rounding import half_up

# As few held-out essays as the overall score is ever judged on (`retrain.MIN_HOLDOUT`) and a
# group gated on (`metrics.GROUP_MIN_N`): on 2 essays a model agrees with a teacher by chance.
MIN_ESSAYS = GROUP_MIN_N
NOT_MEASURED = "no essay kept back to test it has your score for this trait, so it could not be measured"


def _chosen(held, i: int, name: str) -> bool:
    """Whether the teacher chose essay i's score for trait `name` (`Examples.trait_chosen`; data
    built without that list, as from a CSV file, is all the teacher's)."""
    value = (held.trait_scores[i] or {}).get(name) if held.trait_scores else None
    if value is None:
        return False
    return not held.trait_chosen or name in held.trait_chosen[i]


def measure(held, predictions) -> dict:
    """{trait name: `compute_metrics`} of the model's trait columns (`predictions`: one row per
    held-out essay of `held`, an `Examples`, one column per target) against the teacher's trait
    scores. Only scores the teacher chose count: training borrows a missing trait score from the
    overall one, and an approved proposal's trait score is the model's own, not a judgement of it."""
    out = {}
    for j, target in enumerate(held.targets[1:], 1):
        rows = [i for i in range(len(held)) if _chosen(held, i, target.name)]
        if not rows:
            out[target.name] = {"n": 0}
            continue
        teacher = half_up([held.trait_scores[i][target.name] for i in rows]).tolist()
        out[target.name] = compute_metrics(teacher, [float(predictions[i][j]) for i in rows], target.lo, target.hi,
                                           step=target.step)
    return out


def judge(names, trait_metrics: dict | None) -> dict:
    """{trait name: {"passed": bool, "reasons": [why not]}} for each of `names`: at least
    MIN_ESSAYS essays with the teacher's score for it, then the overall score's validity checks
    (`gate.decide` with no model to beat)."""
    verdicts = {}
    for name in names:
        m = (trait_metrics or {}).get(name) or {}
        n = int(m.get("n") or 0)
        if not n:
            verdicts[name] = {"passed": False, "reasons": [NOT_MEASURED]}
            continue
        if n < MIN_ESSAYS:
            verdicts[name] = {"passed": False, "reasons": [f"only {n} of the essays kept back have your score for "
                                                           f"this trait (at least {MIN_ESSAYS} are needed)"]}
            continue
        decision = gate.decide(m, None)
        verdicts[name] = {"passed": bool(decision["promote"]),
                          "reasons": [r for r in decision["reasons"] if not r.startswith("passed: ")]}
    return verdicts


def record(decision: dict, names, trait_metrics: dict | None) -> None:
    """Store the verdicts on the traits `names` on the gate's decision (`decision["traits"]`) and
    add a reason for each trait that did not pass. The version is still promoted or refused on its
    overall score."""
    verdicts = judge(names, trait_metrics)
    decision["traits"] = verdicts
    decision["reasons"].extend(_reasons(verdicts))


def _reasons(verdicts: dict) -> list[str]:
    """The gate's reasons about traits that did not pass."""
    return [f"trait {name!r}: " + "; ".join(v["reasons"]) + " (auto-released grades leave out its score)"
            for name, v in verdicts.items() if not v["passed"]]


def remeasure(gate_record: dict | None, metrics: dict | None, names, trait_metrics: dict, at: str,
              by_version: int) -> dict:
    """The serving version's gate record with its trait verdicts replaced by those of a later
    measurement (`trait_metrics`, on the held-out essays of the training of version `by_version`):
    `gate["traits"]`, its reasons about traits, and `gate["traits_measured"]` = {"at",
    "by_version", "figures"} saying where the figures come from. A trait measured on fewer than
    MIN_ESSAYS essays keeps the verdict and figures it had: the newest grades are kept back, and
    proposals approved as they stood do not count, so a teacher who agrees with the model would
    otherwise see a trait that had passed left out again for want of essays. A version never
    measured takes every new verdict (its trait scores were left out anyway)."""
    record = dict(gate_record or {})
    new = judge(names, trait_metrics)
    old = record.get("traits")
    if old is not None:
        kept = figures(record, metrics)
        enough = {name for name in names if int((trait_metrics.get(name) or {}).get("n") or 0) >= MIN_ESSAYS}
        if not enough:
            return record
        new = {name: new[name] if name in enough or name not in old else old[name] for name in names}
        trait_metrics = {name: trait_metrics.get(name) if name in enough or name not in kept else kept[name]
                         for name in names}
    reasons = [r for r in record.get("reasons") or [] if not r.startswith("trait ")]
    return {**record, "traits": new, "reasons": reasons + _reasons(new),
            "traits_measured": {"at": at, "by_version": by_version, "figures": trait_metrics}}


def figures(gate_record: dict | None, metrics: dict | None) -> dict:
    """{trait: figures} that the version's trait verdicts were judged on: a later measurement's
    (`remeasure`), else its own training's."""
    later = (gate_record or {}).get("traits_measured")
    if later:
        return later.get("figures") or {}
    return ((metrics or {}).get("held_out") or {}).get("traits") or {}


def withheld(gate_record: dict | None, names) -> list[str]:
    """Of the traits `names`, those whose scores auto-released grades leave out: the ones that did
    not pass their check on this version, all of them when it was never measured (no
    `gate["traits"]`: trained before trait checks, or no version at all)."""
    verdicts = (gate_record or {}).get("traits")
    if verdicts is None:
        return list(names)
    return [name for name in names if not (verdicts.get(name) or {}).get("passed")]


def never_measured(gate_record: dict | None) -> bool:
    """Whether the version's traits were never measured (trained before trait checks, and no later
    training scored it again on new essays)."""
    return (gate_record or {}).get("traits") is None
