"""The promotion gate: a new version replaces the current one only if, on held-out teacher
grades, it agrees with the teacher better than the current model and well enough in absolute
terms, without a systematic bias overall or for any group of students.

The comparison with the current model is skipped (`must_beat_current=False`) only when the
current model must go whatever happens: after a data-protection erasure it still holds the erased
essays (`pipeline`), so a retrain that passes the validity checks (QWK, SMD overall and per group)
replaces it even if it agrees with the teacher a little less. The validity checks never change.

Which essays decide "beats the current model" (`compared_on`): in review mode the teacher grades most
essays with the current model's proposal in view, and a score kept as proposed is its own (QWK 1.000
on those for a teacher who approves everything), so on the whole held-out set it stays by
construction. From COMPARED_MIN held-out essays graded without its proposal in view (blind grades,
`lti_app/review/blind.py`, which `retrain.holdout_indices` holds out first; grades given before it
proposed), both models are compared on those alone. On a real pair of models 0.04-0.05 QWK apart, a
comparison on n such essays picks the better one 53-58% of the time at n=10, 71-75% at 20, 75-85%
at 30 and 80-91% at 40 (blindwalk's resampling of 200 unseen essays): below 20 it is hardly better
than a coin, so the whole held-out set decides as before. The validity checks stay on the whole set."""
from __future__ import annotations

from worker.ml.metrics import GROUP_MIN_N, compute_metrics

MIN_QWK = 0.70
MAX_SMD = 0.15
MAX_GROUP_SMD = 0.10
COMPARED_MIN = 20   # held-out essays graded without the current model's proposal that decide alone
WITHOUT_ITS_PROPOSAL = "graded without its proposal"
NO_GROUP_LABELS = "group differences not checked: none of the essays kept back has a group label"


def _group_checks(new: dict) -> tuple[dict, list[str], list[str]]:
    """The per-group rule: a version is refused for a group only when the difference is clear: the
    group has at least GROUP_MIN_N held-out essays AND the whole approximate 95% interval of its
    SMD (`metrics.group_smd`'s `ci`) lies beyond MAX_GROUP_SMD on one side. In a group of 10
    essays one essay a point off moves its SMD by 0.1 to 0.2, so the point figure alone refused
    models unbiased by construction most of the time (and told the teacher they were biased). On
    real ELLIPSE scores and groups, a model with group-blind noise (QWK 0.80) is now refused by a
    group in under 1% of courses of 100 to 1000 essays (81% of 100-essay courses before), while
    one that scores a group half a point high is refused in 93% of 300-essay courses.
    Other groups beyond the limit are noted as too few essays to tell. A figure without an
    interval (a caller's own) is judged on its point value.
    Returns (failed checks, their reasons, notes)."""
    checks, reasons, notes = {}, [], []
    groups = new.get("smd_by_group") or {}
    for group, g in groups.items():
        value, n = g["smd"], g["n"]
        if abs(value) <= MAX_GROUP_SMD:
            continue
        low, high = g.get("ci") or (value, value)
        interval = f"95% interval {low:+.2f} to {high:+.2f}"
        if n < GROUP_MIN_N:
            notes.append(f"group {group!r}: SMD {value:+.3f} on {n} essays, too few essays to tell (fewer than "
                         f"{GROUP_MIN_N}), not held against it")
        elif low > MAX_GROUP_SMD or high < -MAX_GROUP_SMD:
            checks[f"smd_group:{group}"] = False
            reasons.append(f"group {group!r}: |SMD| {abs(value):.3f} exceeds {MAX_GROUP_SMD:.2f} (n={n}, {interval})")
        else:
            notes.append(f"group {group!r}: SMD {value:+.3f} on {n} essays, too few essays to tell whether it is "
                         f"beyond {MAX_GROUP_SMD:.2f} ({interval}), not held against it")
    if not groups and new.get("labelled_outside_held_out"):
        notes.append(NO_GROUP_LABELS)
    return checks, reasons, notes


def _teacher_scores(metrics: dict) -> list[float]:
    """The distinct teacher scores among the held-out essays (the confusion matrix's rows), in the
    assignment's units (a half-point course's rows are half points: `step`)."""
    lo, step = (metrics.get("scale") or [0])[0], float(metrics.get("step", 1))
    return [(lo + i) * step for i, row in enumerate(metrics.get("confusion") or []) if sum(row)]


def without_proposal(held_set) -> list[int]:
    """The held-out essays (indices) the teacher graded with no model's proposal in view
    (`Examples.had_proposal` false: blind grades, imports, grades given before any proposal). Not
    only those without the current model's: a proposal of the version before it, approved after
    the current one went into service, is a model's score all the same."""
    proposed = held_set.had_proposal or [False] * len(held_set)
    return [i for i in range(len(held_set)) if not proposed[i]]


def compared_on(held_set, new_pred, current_pred) -> dict | None:
    """Both models' QWK on the held-out essays (`held_set`, an `Examples`) graded with no proposal
    in view (`without_proposal`), when there are at least COMPARED_MIN of them, their teacher
    scores differ and some other held-out essay had a proposal (else they are the whole set, which
    decides anyway); None otherwise. `new_pred` / `current_pred`: each model's prediction per
    held-out essay, in training units."""
    kept = without_proposal(held_set)
    teacher = [int(held_set.scores[i]) for i in kept]
    if len(kept) < COMPARED_MIN or len(kept) == len(held_set) or len(set(teacher)) < 2:
        return None
    overall = held_set.targets[0]

    def qwk(pred) -> float:
        return compute_metrics(teacher, [int(pred[i]) for i in kept], overall.lo, overall.hi, step=overall.step)["qwk"]

    return {"essays": len(kept), "new_qwk": qwk(new_pred), "current_qwk": qwk(current_pred),
            "why": WITHOUT_ITS_PROPOSAL}


def _on(compared: dict | None) -> str:
    """Which held-out essays the comparison was on, for a reason."""
    if compared is None:
        return "on the same held-out essays"
    return f"on the {compared['essays']} held-out essays {WITHOUT_ITS_PROPOSAL} in view"


def decide(new: dict, current: dict | None, *, must_beat_current: bool = True,
           compared: dict | None = None) -> dict:
    """`new` / `current`: `metrics.compute_metrics` results on the SAME held-out essays.
    `must_beat_current=False`: the "beats the current model" check is left out (recorded as
    `checks["beats_current"] = None` with the reason), everything else is gated as always.
    `compared`: `compared_on`'s result; when given, those essays alone decide whether the new
    version beats the current one (recorded as `compared_on`)."""
    reasons, checks = [], {}
    scores = _teacher_scores(new)
    checks["spread"] = len(scores) >= 2
    if not checks["spread"]:
        # QWK is undefined then and reads 1.0 for a model that gives everyone that score, which
        # auto-release would hand out (a pass/fail course, or a first batch all graded alike).
        reasons.append(f"the held-out essays all have the teacher's score {f'{scores[0]:g}' if scores else '-'}: "
                       "agreement cannot be measured until essays across the scale are graded")
    checks["qwk"] = new["qwk"] >= MIN_QWK
    if not checks["qwk"]:
        reasons.append(f"QWK {new['qwk']:.3f} is below {MIN_QWK:.2f}")
    checks["smd"] = abs(new["smd"]) <= MAX_SMD
    if not checks["smd"]:
        reasons.append(f"|SMD| {abs(new['smd']):.3f} exceeds {MAX_SMD:.2f}")
    group_checks, group_reasons, group_notes = _group_checks(new)
    checks.update(group_checks)
    reasons.extend(group_reasons)
    against = current is not None and must_beat_current
    compared = compared if against else None
    if against:
        new_qwk, current_qwk = ((compared["new_qwk"], compared["current_qwk"]) if compared
                                else (new["qwk"], current["qwk"]))
        checks["beats_current"] = new_qwk > current_qwk
        if not checks["beats_current"]:
            # "on the same essays": the dashboard shows the current model's QWK on its own
            # held-out essays, and a teacher read 0.811 here beside 0.86 there as a contradiction.
            reasons.append(f"QWK {new_qwk:.3f} does not beat the current model's {current_qwk:.3f} {_on(compared)}")
    promote = all(checks.values())
    if not must_beat_current:
        # Recorded, not gated: None keeps `all(checks.values())` readers honest about what ran.
        checks["beats_current"] = None
        reasons.append("not compared with the current model: it was trained on deleted essays and must be "
                       "replaced" + (f" (its QWK on the same essays: {current['qwk']:.3f})" if current else ""))
    if promote:
        if not against:
            verdict = f"QWK {new['qwk']:.3f}"
        elif compared is None:
            verdict = f"QWK {new_qwk:.3f} > current {current_qwk:.3f} on the same essays"
        else:
            verdict = f"QWK {new_qwk:.3f} > current {current_qwk:.3f} {_on(compared)} (QWK {new['qwk']:.3f} on all)"
        reasons.append(f"passed: {verdict}, SMD {new['smd']:+.3f}")
    reasons.extend(group_notes)   # after the verdict: what the group check could not tell
    decision = {"promote": promote, "reasons": reasons, "checks": checks,
                "thresholds": {"min_qwk": MIN_QWK, "max_smd": MAX_SMD, "max_group_smd": MAX_GROUP_SMD,
                               "group_min_n": GROUP_MIN_N, "group_rule": "interval", "compared_min": COMPARED_MIN}}
    if compared:
        decision["compared_on"] = compared
    return decision
