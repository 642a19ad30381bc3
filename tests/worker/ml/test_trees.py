"""The flattened tree ensemble gives sklearn's numbers: on real essays' writing features and on
inputs with missing values."""
from __future__ import annotations

import numpy as np
from sklearn.ensemble import HistGradientBoostingRegressor

from worker.ml.general import TREE_PARAMS
from worker.ml.stylefeatures import STYLE_NAMES, style_matrix
from worker.ml.tokens import load_vocab
from worker.ml.trees import FlatTrees


def test_same_predictions_as_sklearn_on_real_essays(persuade, base_model):
    train, val = persuade.splits["train"], persuade.splits["validation"]
    vocab = load_vocab(base_model)
    X = style_matrix(train.texts[:300], vocab)
    assert X.shape == (300, len(STYLE_NAMES)) and np.isfinite(X).all()
    model = HistGradientBoostingRegressor(random_state=0, **TREE_PARAMS).fit(X, train.scores[:300])
    flat = FlatTrees.from_sklearn(model)
    X_val = style_matrix(val.texts, vocab)
    np.testing.assert_allclose(flat.predict(X_val), model.predict(X_val), rtol=0, atol=1e-9)
    np.testing.assert_allclose(flat.predict(X_val[0]), model.predict(X_val[:1]), rtol=0, atol=1e-9)


def test_missing_values_follow_the_learned_side():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(2000, 6))
    y = 2 * X[:, 0] + np.sin(3 * X[:, 1]) + 0.1 * rng.normal(size=2000)
    X[rng.random(X.shape) < 0.1] = np.nan
    model = HistGradientBoostingRegressor(random_state=0, **TREE_PARAMS).fit(X, y)
    flat = FlatTrees.from_sklearn(model)
    assert flat.depth > 1
    np.testing.assert_allclose(flat.predict(X), model.predict(X), rtol=0, atol=1e-9)
