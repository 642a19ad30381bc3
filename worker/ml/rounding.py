"""From a raw regression value to a score on the assignment's integer scale, plus a confidence.

Cut points start at k + 0.5 and are tuned on out-of-fold predictions to maximise QWK (shrunk
toward the plain rounding cut points when few essays back them). Confidence is the probability
that the raw prediction, blurred by the model's cross-validated residual spread, stays inside its
score band (on scales over 10 points wide: within 5% of the range): close to a cut point or a
noisy model means low confidence. Pure numpy (scorer-side).
"""
from __future__ import annotations

import math

import numpy as np

from worker.ml.metrics import qwk


def half_up(values) -> np.ndarray:
    """Teacher scores as whole scores, halves going up (3.5 -> 4, 4.5 -> 5), as
    `training_set.whole_score` sends the overall score: `np.rint` rounds halves to even (2.5 -> 2,
    4.5 -> 4), so a trait's half points pulled its cut points down."""
    return np.floor(np.asarray(values, dtype=float) + 0.5).astype(int)


def default_cuts(lo: int, hi: int) -> list[float]:
    return [k + 0.5 for k in range(lo, hi)]


def apply_cuts(raw, cuts, lo: int) -> np.ndarray:
    return lo + np.searchsorted(np.asarray(cuts, dtype=float), np.asarray(raw, dtype=float), side="right")


def fit_cuts(raw, y, lo: int, hi: int, passes: int = 2, shrink_n: int = 100) -> list[float]:
    """Coordinate search of each cut point on a grid, keeping them ordered.

    With n essays the tuned cuts are blended with plain rounding by n / (n + shrink_n): a cut tuned
    on 40 out-of-fold predictions mostly reflects noise.
    """
    raw = np.asarray(raw, dtype=float)
    y = np.asarray(y, dtype=int)
    base = default_cuts(lo, hi)
    cuts = list(base)
    best = qwk(y, apply_cuts(raw, cuts, lo), lo, hi)
    grid = np.linspace(-0.45, 0.45, 19)
    for _ in range(passes):
        for i in range(len(cuts)):
            left = cuts[i - 1] if i > 0 else -np.inf
            right = cuts[i + 1] if i + 1 < len(cuts) else np.inf
            for delta in grid:
                cand = base[i] + delta
                if not left < cand < right:
                    continue
                trial = cuts[:i] + [cand] + cuts[i + 1:]
                score = qwk(y, apply_cuts(raw, trial, lo), lo, hi)
                if score > best + 1e-9:
                    best, cuts = score, trial
    weight = len(y) / (len(y) + shrink_n)
    return [float(weight * c + (1 - weight) * b) for c, b in zip(cuts, base)]


def _phi(x: float) -> float:
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


TOLERANCE = 0.05   # of the scale's range: how far off a score on a wide scale may be and still count


def confidence(raw: float, cuts, lo: int, sigma: float, step: float = 1.0) -> float:
    """P(raw + N(0, sigma) falls in the same score band as raw), or, on a wide scale, within
    `TOLERANCE` of its range from raw. One point of 0-100 is not what a teacher means by "sure":
    the exact-point probability stayed near 0.05 mid-scale, so with the default threshold
    (0.6) no essay of such an assignment was ever released. Scales up to 10 points wide (1-6,
    2-10) keep the band exactly (their tolerance is at most half a point). `step`: what one unit
    is worth on the assignment's scale; a half-point target (0.5, its units are half points) is
    sure within half a point of the assignment's scale, as a whole-point one is: its half-wide
    bands made confidence collapse, and with it auto-release (0% of half-point proposals above 0.5
    on ELLIPSE essays, 55% of whole-point ones)."""
    k = int(apply_cuts([raw], cuts, lo)[0]) - lo
    lower = cuts[k - 1] if k > 0 else -math.inf
    upper = cuts[k] if k < len(cuts) else math.inf
    # len(cuts) = highest - lowest score; half a point is 1 unit on a doubled scale
    tolerance = max(TOLERANCE * len(cuts), 0.5 / step if step < 1 else 0.0)
    if tolerance > 0.5:
        lower = lower if lower == -math.inf else min(lower, raw - tolerance)
        upper = upper if upper == math.inf else max(upper, raw + tolerance)
    sigma = max(float(sigma), 1e-6)
    p_hi = 1.0 if upper == math.inf else _phi((upper - raw) / sigma)
    p_lo = 0.0 if lower == -math.inf else _phi((lower - raw) / sigma)
    return float(min(1.0, max(0.0, p_hi - p_lo)))
