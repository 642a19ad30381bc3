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


def smd(y_true: Sequence[float], y_pred: Sequence[float]) -> float:
    """Standardised mean difference (machine - teacher) / pooled SD (Williamson et al. 2012)."""
    t = np.asarray(y_true, dtype=float)
    p = np.asarray(y_pred, dtype=float)
    if len(t) < 2:
        return 0.0
    pooled = np.sqrt((t.var(ddof=1) + p.var(ddof=1)) / 2.0)
    diff = p.mean() - t.mean()
    if pooled == 0:
        # Both raters constant: no spread to standardise by, so any difference is total. Capped,
        # not infinite: metrics are stored as JSON, and PostgreSQL's json type refuses Infinity.
        return 0.0 if diff == 0 else float(np.sign(diff)) * SMD_NO_SPREAD
    return float(diff / pooled)


def agreement(y_true: Sequence[int], y_pred: Sequence[int]) -> tuple[float, float]:
    """(exact, adjacent) agreement rates; adjacent means |difference| <= 1."""
    d = np.abs(np.asarray(y_true, dtype=int) - np.asarray(y_pred, dtype=int))
    if len(d) == 0:
        return 0.0, 0.0
    return float((d == 0).mean()), float((d <= 1).mean())


def group_smd(y_true, y_pred, groups, min_size: int = 5) -> dict[str, dict]:
    """SMD per group label (groups smaller than `min_size` are reported but flagged)."""
    out: dict[str, dict] = {}
    t = np.asarray(y_true, dtype=float)
    p = np.asarray(y_pred, dtype=float)
    g = np.asarray([str(x) if x not in (None, "") else "" for x in groups], dtype=object)
    for label in sorted(set(g) - {""}):
        mask = g == label
        out[label] = {"n": int(mask.sum()), "smd": smd(t[mask], p[mask]),
                      "small": bool(mask.sum() < min_size)}
    return out


def compute_metrics(y_true, y_pred, lo: int, hi: int, groups=None) -> dict:
    """Every figure the gate and the reports need, JSON-ready."""
    exact, adjacent = agreement(y_true, y_pred)
    metrics = {
        "n": int(len(y_true)),
        "qwk": qwk(y_true, y_pred, lo, hi),
        "exact": exact,
        "adjacent": adjacent,
        "smd": smd(y_true, y_pred),
        "confusion": confusion(y_true, y_pred, lo, hi),
        "scale": [lo, hi],
    }
    if groups is not None and any(x not in (None, "") for x in groups):
        metrics["smd_by_group"] = group_smd(y_true, y_pred, groups)
    return metrics
