"""The dashboard's words on a course model's trait scores: how each trait agreed with the teacher on
the essays kept back to test it (`metrics["held_out"]["traits"]`, judged by `worker.ml.trait_checks`
and stored on the version's `gate["traits"]`), and why AI grades wait for review while a trait of the
version in service fails or was never measured (auto-release holds them, `worker.handlers.scoring`).
Versions trained before trait checks have neither key and still render."""
from __future__ import annotations

from lti_app.models import Assignment, ModelVersion


def has_traits(version: ModelVersion | None) -> bool:
    """Whether the version gives trait scores (its trait figures, or, for a version trained before
    trait checks, the export's per-trait parity check)."""
    if version is None:
        return False
    metrics = version.metrics or {}
    return bool((version.gate or {}).get("traits") or ((metrics.get("held_out") or {}).get("traits"))
                or ((metrics.get("parity") or {}).get("traits")))


def _limits(version: ModelVersion) -> tuple[float, float]:
    limits = (version.gate or {}).get("thresholds") or {}
    return float(limits.get("min_qwk", 0.70)), float(limits.get("max_smd", 0.15))


def _why_not(m: dict, min_qwk: float, max_smd: float) -> str:
    """A failed trait's check in plain words, from its figures."""
    if not m.get("n"):
        return "not measured: none of the essays kept back to test it had your score for this trait"
    if sum(1 for row in m.get("confusion") or [] if sum(row)) < 2:
        return "your scores for it on the essays kept back were all the same, so agreement cannot be measured yet"
    if m.get("qwk") is not None and m["qwk"] < min_qwk:
        return f"it agreed with your scores too little ({m['qwk']:.3f}; at least {min_qwk:.2f} is needed)"
    if m.get("smd") is not None and abs(m["smd"]) > max_smd:
        side = "above" if m["smd"] > 0 else "below"
        return f"its scores were on average too far {side} yours (SMD {m['smd']:+.2f}; at most ±{max_smd:.2f})"
    return "it did not pass its check"


def rows(version: ModelVersion | None) -> list[dict]:
    """One row per measured trait of `version`: name, n, qwk, smd, passed, and `check` in words."""
    if version is None:
        return []
    figures = ((version.metrics or {}).get("held_out") or {}).get("traits") or {}
    verdicts = (version.gate or {}).get("traits") or {}
    min_qwk, max_smd = _limits(version)
    out = []
    for name, m in figures.items():
        passed = bool((verdicts.get(name) or {}).get("passed"))
        out.append({"name": name, "n": m.get("n") or 0, "qwk": m.get("qwk"), "smd": m.get("smd"), "passed": passed,
                    "check": "passed" if passed else "did not pass: " + _why_not(m, min_qwk, max_smd)})
    return out


def release_held(assignment: Assignment, current: ModelVersion | None) -> str:
    """Why AI grades wait for review whatever their confidence, "" when they do not (no trait
    scores, every trait passed, or auto-release is off)."""
    from worker.ml import trait_checks   # plain Python: no model code

    if (current is None or assignment.feedback_mode.value != "auto" or not has_traits(current)
            or not trait_checks.holds_release(current.gate)):
        return ""
    failed = trait_checks.failing(current.gate)
    lead = ("AI grades wait for your review, whatever their confidence, because students would see the trait "
            f"scores of version {current.version}")
    if failed is None:
        return (f"{lead} and no one has measured how well they agree with yours: it was trained before Gradeloop "
                "checked trait scores. The next training measures them (“Train now” starts one).")
    figures = ((current.metrics or {}).get("held_out") or {}).get("traits") or {}
    min_qwk, max_smd = _limits(current)
    said = "; ".join(f"{name}: {_why_not(figures.get(name) or {}, min_qwk, max_smd)}" for name in failed)
    return (f"{lead}, and not all of them agree well enough with yours ({said}). Confident grades go to students "
            "again once a training gives a version whose trait scores all pass.")
