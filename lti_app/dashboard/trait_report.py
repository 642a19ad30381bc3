"""The dashboard's words on a course model's trait scores: how each trait agreed with the teacher on
the essays kept back to test it (judged by `worker.ml.trait_checks`, stored on the version's
`gate["traits"]`; the figures are its training's `metrics["held_out"]["traits"]`, or a later
training's `gate["traits_measured"]`), and which trait scores auto-released grades leave out, and
why (`trait_checks.withheld`, the very list the scoring worker uses). Versions trained before trait
checks have no verdicts: all their trait scores are left out until a training measures them."""
from __future__ import annotations

from lti_app.dashboard.report import limit
from lti_app.models import Assignment, ModelVersion
from worker.ml import trait_checks
from worker.ml.trait_checks import MIN_ESSAYS

# When a training can measure the version in use (`retrain.holdout_indices`' `fair`): on essays it
# never learnt from, at least a fifth of the graded ones, and 20 suffice.
NEW_ESSAYS = ("enough essays have been graded since it was trained: a fifth of all graded essays, or 20 when "
              "there are more than 100")


def _names(assignment: Assignment) -> list[str]:
    return [t["name"] for t in assignment.traits or []]


def withheld(assignment: Assignment, version: ModelVersion | None) -> list[str]:
    """The assignment's traits whose scores grades auto-released by `version` leave out."""
    return trait_checks.withheld(version.gate if version is not None else None, _names(assignment))


def _figures(version: ModelVersion) -> dict:
    return trait_checks.figures(version.gate, version.metrics)


def _why_not(name: str, m: dict, version: ModelVersion) -> str:
    """A trait's failed check in plain words, from its figures."""
    n = int(m.get("n") or 0)
    more = f"score {name} on more of the essays you grade (the newest grades are kept back to test it)"
    if not n:
        return f"none of the essays kept back to test it had your score for {name}: {more}"
    if n < MIN_ESSAYS:
        return f"only {n} of the essays kept back had your score for {name} (at least {MIN_ESSAYS} are needed): {more}"
    if sum(1 for row in m.get("confusion") or [] if sum(row)) < 2:
        return "your scores for it on the essays kept back were all the same, so agreement cannot be measured yet"
    min_qwk, max_smd = limit(version, "min_qwk"), limit(version, "max_smd")
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
    verdicts = (version.gate or {}).get("traits") or {}
    out = []
    for name, m in _figures(version).items():
        passed = bool((verdicts.get(name) or {}).get("passed"))
        out.append({"name": name, "n": m.get("n") or 0, "qwk": m.get("qwk"), "smd": m.get("smd"), "passed": passed,
                    "check": "passed" if passed else "did not pass: " + _why_not(name, m, version)})
    return out


def never_measured(assignment: Assignment, version: ModelVersion | None) -> bool:
    """Whether `version` gives trait scores (the assignment has traits) that were never measured."""
    return version is not None and bool(_names(assignment)) and trait_checks.never_measured(version.gate)


def measured_later(version: ModelVersion | None) -> dict | None:
    """{"at", "by_version"} when the version's traits were measured by a later training."""
    later = ((version.gate or {}).get("traits_measured") if version is not None else None) or None
    return {"at": later.get("at"), "by_version": later.get("by_version")} if later else None


def _listed(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def withheld_notice(assignment: Assignment, current: ModelVersion | None) -> str:
    """Which trait scores auto-released grades leave out, and why; "" when none is (no traits,
    every trait passed, no model in service, or auto-release is off)."""
    names = withheld(assignment, current)
    if current is None or assignment.feedback_mode.value != "auto" or not names:
        return ""
    lead = (f"Auto-released grades do not include the {_listed(names)} score{'s' if len(names) > 1 else ''} yet: ")
    if trait_checks.never_measured(current.gate):
        why = (f"version {current.version}, in use, was trained before Gradeloop checked trait scores; a training "
               f"measures them once {NEW_ESSAYS} (“Train now” starts one then)")
    else:
        figures = _figures(current)
        why = "; ".join(f"{name}: {_why_not(name, figures.get(name) or {}, current)}" for name in names)
    return (f"{lead}{why}. You can add them on the grading page; they are included once a training shows they agree "
            "with yours.")
