"""Agreement metrics between machine and teacher scores: QWK, exact/adjacent agreement,
confusion matrix, standardised mean difference (overall and per group).

`compute_metrics` is the one hook every evaluation uses (held-out gate, benchmark, CV).
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def confusion(y_true: Sequence[int], y_pred: Sequence[int], lo: int, hi: int) -> list[list[int]]:
    """Rows: teacher score lo..hi; columns: machine score lo..hi."""
    k = hi - lo + 1
    mat = np.zeros((k, k), dtype=int)
    for t, p in zip(y_true, y_pred):
        mat[int(np.clip(t, lo, hi)) - lo, int(np.clip(p, lo, hi)) - lo] += 1
    return mat.tolist()


def qwk(y_true: Sequence[int], y_pred: Sequence[int], lo: int | None = None, hi: int | None = None) -> float:
    """Quadratic weighted kappa on integer scores (1.0 = perfect, 0 = chance)."""
    t = np.asarray(y_true, dtype=int)
    p = np.asarray(y_pred, dtype=int)
    if len(t) == 0:
        return 0.0
    lo = int(min(t.min(), p.min())) if lo is None else lo
    hi = int(max(t.max(), p.max())) if hi is None else hi
    obs = np.asarray(confusion(t, p, lo, hi), dtype=float)
    k = obs.shape[0]
    if k < 2:
        return 1.0 if np.array_equal(t, p) else 0.0
    idx = np.arange(k)
    weights = (idx[:, None] - idx[None, :]) ** 2 / (k - 1) ** 2
    expected = np.outer(obs.sum(1), obs.sum(0)) / obs.sum()
    denom = (weights * expected).sum()
    # Both raters constant on the same value: perfect agreement, kappa undefined -> 1.
    return 1.0 if denom == 0 else float(1.0 - (weights * obs).sum() / denom)


SMD_NO_SPREAD = 99.0


def _standardised(diff: float, sd: float) -> float:
    """`diff` in SDs. Both raters constant: no spread to standardise by, so any difference is
    total. Capped, not infinite: metrics are stored as JSON, and PostgreSQL's json type refuses
    Infinity."""
    if sd == 0:
        return 0.0 if diff == 0 else float(np.sign(diff)) * SMD_NO_SPREAD
    return float(diff / sd)


def smd(y_true: Sequence[float], y_pred: Sequence[float]) -> float:
    """Standardised mean difference (machine - teacher) / pooled SD (Williamson et al. 2012)."""
    t = np.asarray(y_true, dtype=float)
    p = np.asarray(y_pred, dtype=float)
    if len(t) < 2:
        return 0.0
    return _standardised(p.mean() - t.mean(), _pooled_sd(t, p))


def _pooled_sd(t: np.ndarray, p: np.ndarray) -> float:
    return float(np.sqrt((t.var(ddof=1) + p.var(ddof=1)) / 2.0)) if len(t) > 1 else 0.0


def agreement(y_true: Sequence[int], y_pred: Sequence[int], step: float = 1.0) -> tuple[float, float]:
    """(exact, adjacent) agreement rates; adjacent means within one point of the assignment's
    scale: |difference| <= 1 unit, or <= 2 on a half-point target's doubled scale (`step` 0.5)."""
    d = np.abs(np.asarray(y_true, dtype=int) - np.asarray(y_pred, dtype=int))
    if len(d) == 0:
        return 0.0, 0.0
    return float((d == 0).mean()), float((d <= round(1 / step)).mean())


def group_key(label) -> str:
    """The group a label counts in: case and surrounding spaces folded ("ELL" and "ell " are one
    group, not two smaller ones); "" for no label."""
    return "" if label is None else str(label).strip().casefold()


def _group_names(groups) -> dict[str, str]:
    """{folded key: the label shown}: the spelling most essays of the group use (then the first
    in sort order), so a group keeps the teacher's own capitals."""
    counts: dict[str, dict[str, int]] = {}
    for label in groups:
        key = group_key(label)
        if key:
            spelled = counts.setdefault(key, {})
            spelled[str(label).strip()] = spelled.get(str(label).strip(), 0) + 1
    return {key: min(spelled, key=lambda s: (-spelled[s], s)) for key, spelled in counts.items()}


GROUP_MIN_N = 5   # below this a group's figure is reported, never gated (`gate`): 2 essays are noise


def group_smd(y_true, y_pred, groups, min_size: int = GROUP_MIN_N) -> dict[str, dict]:
    """SMD per group label, each standardised by the WHOLE held-out set's pooled SD (RSMTool's
    "DSM" does the same for subgroups): a group's own SD is small when its essays are alike (a
    proficiency group), which inflated its SMD, and is zero when they all share one score.
    `ci`: the approximate 95% interval of that SMD (t interval of the group's paired differences,
    machine - teacher, on the same scale), so the gate can tell a clear difference from the noise
    of a few essays; None under 2 essays. `small`: fewer than `min_size` essays."""
    from scipy import stats   # here: the dashboard imports this module (through `gate`) and never needs it

    out: dict[str, dict] = {}
    t = np.asarray(y_true, dtype=float)
    p = np.asarray(y_pred, dtype=float)
    keys = np.asarray([group_key(x) for x in groups], dtype=object)
    names = _group_names(groups)
    whole = _pooled_sd(t, p)
    # The spread of the differences: the group's own, but never below the whole set's. A few
    # essays that all differ by the same point have a spread of 0, which made a zero-width
    # "interval" of 5 essays look certain.
    spread = float((p - t).std(ddof=1)) if len(t) > 1 else 0.0
    for key in sorted(names, key=lambda k: names[k]):
        mask = keys == key
        diff = p[mask] - t[mask]
        n = int(mask.sum())
        value, ci = _standardised(diff.mean(), whole), None
        if n > 1:
            half = float(stats.t.ppf(0.975, n - 1)) * max(float(diff.std(ddof=1)), spread) / np.sqrt(n)
            ci = [_standardised(diff.mean() - half, whole), _standardised(diff.mean() + half, whole)]
        out[names[key]] = {"n": n, "smd": value, "ci": ci, "small": bool(n < min_size)}
    return out


def compute_metrics(y_true, y_pred, lo: int, hi: int, groups=None, step: float = 1.0) -> dict:
    """Every figure the gate and the reports need, JSON-ready. Scores and lo..hi in training units;
    `step`: what one unit is worth on the assignment's scale (0.5 for half points: `scale` 2..12
    is 1-6), stored beside `scale` so that readers label the scale in the assignment's units."""
    exact, adjacent = agreement(y_true, y_pred, step)
    metrics = {
        "n": int(len(y_true)),
        "qwk": qwk(y_true, y_pred, lo, hi),
        "exact": exact,
        "adjacent": adjacent,
        "smd": smd(y_true, y_pred),
        "confusion": confusion(y_true, y_pred, lo, hi),
        "scale": [lo, hi],
        "step": step,
    }
    if groups is not None and any(group_key(x) for x in groups):
        metrics["smd_by_group"] = group_smd(y_true, y_pred, groups)
    return metrics
