"""Ridge regression heads on frozen features, as plain (W, b) that become one nn.Linear.

Inputs are the concatenated [embedding, surface features, stacked columns]; they are
standardised for the fit and the standardisation is folded back into W and b, so the exported
graph needs no scaler.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.linear_model import Ridge
from sklearn.model_selection import KFold

ALPHAS = np.logspace(-1, 4.5, 12)


@dataclass
class LinearHead:
    """y_norm = X @ W.T + b  (rows of W: overall, then traits), on raw unscaled inputs."""

    W: np.ndarray
    b: np.ndarray

    def predict(self, X: np.ndarray) -> np.ndarray:
        return X @ self.W.T + self.b


def class_weights(y_int) -> np.ndarray:
    """Inverse square-root class frequency (mean 1): rare top/bottom scores count more
    without letting five essays dominate the fit."""
    y_int = np.asarray(y_int)
    values, counts = np.unique(y_int, return_counts=True)
    freq = dict(zip(values.tolist(), (counts / len(y_int)).tolist()))
    w = np.array([freq[v] ** -0.5 for v in y_int.tolist()])
    return w / w.mean()


def fit_head(X, Y, w, alpha, mask, emb_scale: float = 1.0, n_emb: int = 0) -> LinearHead:
    """`emb_scale` < 1 shrinks the first `n_emb` (embedding) columns harder than the surface
    features: 384 noisy dimensions against a few hundred essays need a stronger penalty."""
    D = X if mask is None else X[:, mask]
    mu, sd = D.mean(0), D.std(0)
    sd[sd < 1e-8] = 1.0
    if mask is None and n_emb and emb_scale != 1.0:
        sd = sd.copy()
        sd[:n_emb] /= emb_scale
    model = Ridge(alpha=alpha).fit((D - mu) / sd, Y, sample_weight=w)
    coef = np.atleast_2d(model.coef_) / sd          # (outputs, design cols)
    b = np.atleast_1d(model.intercept_) - coef @ mu
    W = np.zeros((coef.shape[0], X.shape[1]))
    if mask is None:
        W[:] = coef
    else:
        W[:, mask] = coef
    return LinearHead(W=W, b=b)


def folds(n: int, k: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    return list(KFold(n_splits=min(k, n), shuffle=True, random_state=seed).split(np.arange(n)))


def oof_predict(X, Y, w, alpha, mask, splits, **kw) -> np.ndarray:
    out = np.zeros_like(Y, dtype=float)
    for tr, te in splits:
        out[te] = fit_head(X[tr], Y[tr], w[tr], alpha, mask, **kw).predict(X[te])
    return out


def fit_ridge_cv(X, Y, w, splits, mask=None, score_fn=None, **kw):
    """Pick alpha by out-of-fold error on the overall score, refit on everything.

    Returns (head, oof predictions of the chosen alpha, chosen alpha).
    `score_fn(oof)` (higher is better) replaces the default negative MSE when given.
    """
    Y = np.asarray(Y, dtype=float).reshape(len(X), -1)
    best = None
    for alpha in ALPHAS:
        oof = oof_predict(X, Y, w, alpha, mask, splits, **kw)
        s = score_fn(oof) if score_fn else -float(np.average((oof[:, 0] - Y[:, 0]) ** 2, weights=w))
        if best is None or s > best[0]:
            best = (s, alpha, oof)
    _, alpha, oof = best
    return fit_head(X, Y, w, alpha, mask, **kw), oof, float(alpha)
