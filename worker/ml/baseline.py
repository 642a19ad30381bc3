"""The reference baseline of the benchmark: TF-IDF word 1-2 grams + char 2-5 grams + log length,
ridge regression, rounded and clipped to the scale. No encoder, no tuning."""
from __future__ import annotations

import numpy as np
from scipy.sparse import csr_matrix, hstack
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import Ridge


class TfidfRidge:
    def __init__(self, lo: int, hi: int, alpha: float = 1.0):
        self.lo, self.hi = lo, hi
        self.words = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2)
        self.chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2)
        self.ridge = Ridge(alpha=alpha)

    @staticmethod
    def _length(texts):
        return csr_matrix(np.log1p([[len(t.split())] for t in texts]))

    def fit(self, texts, y) -> "TfidfRidge":
        X = hstack([self.words.fit_transform(texts), self.chars.fit_transform(texts), self._length(texts)])
        self.ridge.fit(X.tocsr(), np.asarray(y, dtype=float))
        return self

    def predict_raw(self, texts) -> np.ndarray:
        X = hstack([self.words.transform(texts), self.chars.transform(texts), self._length(texts)])
        return self.ridge.predict(X.tocsr())

    def predict(self, texts) -> np.ndarray:
        return np.clip(np.rint(self.predict_raw(texts)), self.lo, self.hi).astype(int)
