"""The promotion gate: a new version replaces the current one only if, on held-out teacher
grades, it agrees with the teacher better than the current model and well enough in absolute
terms, without a systematic bias overall or for any group of students.

The comparison with the current model is skipped (`must_beat_current=False`) only when the
current model must go whatever happens: after a data-protection erasure it still holds the erased
essays (`pipeline`), so a retrain that passes the validity checks (QWK, SMD overall and per group)
replaces it even if it agrees with the teacher a little less. The validity checks never change."""
from __future__ import annotations

from worker.ml.metrics import GROUP_MIN_N

MIN_QWK = 0.70
MAX_SMD = 0.15
MAX_GROUP_SMD = 0.10
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


def decide(new: dict, current: dict | None, *, must_beat_current: bool = True) -> dict:
    """`new` / `current`: `metrics.compute_metrics` results on the SAME held-out essays.
    `must_beat_current=False`: the "beats the current model" check is left out (recorded as
    `checks["beats_current"] = None` with the reason), everything else is gated as always."""
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
    compared = current is not None and must_beat_current
    if compared:
        checks["beats_current"] = new["qwk"] > current["qwk"]
        if not checks["beats_current"]:
            # "on the same essays": the dashboard shows the current model's QWK on its own
            # held-out essays, and a teacher read 0.811 here beside 0.86 there as a contradiction.
            reasons.append(f"QWK {new['qwk']:.3f} does not beat the current model's {current['qwk']:.3f} "
                           "on the same held-out essays")
    promote = all(checks.values())
    if not must_beat_current:
        # Recorded, not gated: None keeps `all(checks.values())` readers honest about what ran.
        checks["beats_current"] = None
        reasons.append("not compared with the current model: it was trained on deleted essays and must be "
                       "replaced" + (f" (its QWK on the same essays: {current['qwk']:.3f})" if current else ""))
    if promote:
        reasons.append("passed: " + (f"QWK {new['qwk']:.3f} > current {current['qwk']:.3f} on the same essays" if compared
                                     else f"QWK {new['qwk']:.3f}") + f", SMD {new['smd']:+.3f}")
    reasons.extend(group_notes)   # after the verdict: what the group check could not tell
    return {"promote": promote, "reasons": reasons, "checks": checks,
            "thresholds": {"min_qwk": MIN_QWK, "max_smd": MAX_SMD, "max_group_smd": MAX_GROUP_SMD,
                           "group_min_n": GROUP_MIN_N, "group_rule": "interval"}}
