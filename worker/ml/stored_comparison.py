"""The "beats the current model" check when the essays held out are not new to the current model.

`retrain.holdout_indices` holds out only essays the current model never trained on when there are
at least `min(k, FAIR_MIN_HOLDOUT)` of them (`fair`). Otherwise (the daily retrain after a few new
grades, a `retrain_every` under 20) most held-out essays are ones the current model learnt from,
and a model scores far better on those (QWK 0.92 on its own training essays against 0.77 on
unseen ones, prompt 9 with 100 grades): scoring it again there meant no new model could win. So
the new model's held-out QWK is compared with the current model's QWK on ITS held-out essays,
recorded when it was trained: each model on essays it never learnt from, though not the same
essays, and the reason says so (never "on the same essays").
"""
from __future__ import annotations

WHY = "too few of the essays kept back are new to the version in use to test both on the same essays"


def own_test(current) -> dict | None:
    """{"version", "qwk", "n"}: the current version's (a `ModelVersion`) QWK on the essays held out
    when it was trained; None when it has none, or when its files could not be used to score
    (`gate["unreadable"]`): a broken model must not block its replacement."""
    if (current.gate or {}).get("unreadable"):
        return None
    held_out = (current.metrics or {}).get("held_out") or {}
    if held_out.get("qwk") is None:
        return None
    return {"version": current.version, "qwk": float(held_out["qwk"]), "n": held_out.get("n")}


def _other_step(decision: dict, new: dict, current) -> bool:
    """When the current version's own figure was measured on a scale of another step, it is not
    compared (recorded as `checks["beats_current"] = None`, with the reason): QWK on the doubled
    scale of a teacher who grades in half points is another figure (about 0.1 higher for the same
    model), so "beats" would be decided by the scale, promoting the first half-point version and
    keeping a half-point one once the teacher's halves grew rare. The new version then has to pass
    the validity checks alone, as when the current model's files cannot be read. True when so."""
    current_step = float(((current.metrics or {}).get("held_out") or {}).get("step", 1))
    new_step = float(new.get("step", 1))
    if current_step == new_step:
        return False
    words = {1.0: "whole points", 0.5: "half points"}
    decision["checks"]["beats_current"] = None
    decision["reasons"].append(
        f"not compared with the current model v{current.version}: it gives {words.get(current_step, current_step)} "
        f"and this one {words.get(new_step, new_step)} (how often the teacher grades in halves changed), and too "
        "few of the essays kept back are new to it to test both on the same essays; their QWKs on their own "
        "essays are on different scales")
    return True


def compare(decision: dict, new: dict, current) -> dict | None:
    """Add the check to `decision` (`gate.decide(new, None)`: validity only) against the current
    version `current`; returns the figure compared with (stored as `metrics["current_own_test"]`),
    None when there was none or it is on another scale (`_other_step`; then only the validity
    checks ran, and a reason says why)."""
    if _other_step(decision, new, current):
        return None
    figure = own_test(current)
    if figure is None:
        decision["checks"]["beats_current"] = None
        decision["reasons"].append(f"not compared with the current model v{current.version}: {WHY}, and it has no "
                                   "usable figure of its own")
        return None
    beats = new["qwk"] > figure["qwk"]
    decision["checks"]["beats_current"] = beats
    count = f"{figure['n']} " if figure["n"] else ""
    where = (f"the current model's {figure['qwk']:.3f} on the {count}essays held back to test it when it was "
             f"trained ({WHY})")
    if beats:
        decision["reasons"].append(f"compared with the version in use: QWK {new['qwk']:.3f} > {where}")
    else:
        decision["promote"] = False
        decision["reasons"] = ([r for r in decision["reasons"] if not r.startswith("passed: ")]
                               + [f"QWK {new['qwk']:.3f} does not beat {where}"])
    return figure
