"""The lexical feature: a TF-IDF ridge (the benchmark baseline's recipe) fitted on the course's
own essays, whose prediction becomes one more input feature of the linear head (stacking).

It carries what a frozen sentence encoder misses at small N: this prompt's own vocabulary and
spelling. Training uses out-of-fold predictions so the head does not over-trust it. The fitted
vectorisers live next to the ONNX graph (`lexical.pkl`, written by the worker itself) and the
scorer computes the column before running the graph, so scoring still needs no torch. Predictions
go through `tfidf_compiled` (same numbers, 1 ms instead of 6 ms per essay).
"""
from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np

from worker.ml.baseline import TfidfRidge
from worker.ml.tfidf_compiled import compile_tfidf_ridge

LEXICAL_FILE = "lexical.pkl"


class Lexical:
    def __init__(self, lo: int, hi: int):
        self.lo, self.hi = lo, hi
        self.model: TfidfRidge | None = None
        self._compiled = None

    def __getstate__(self):  # the compiled tables are rebuilt on load, not pickled
        return {k: v for k, v in self.__dict__.items() if k != "_compiled"}

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._compiled = None

    def _norm(self, raw) -> np.ndarray:
        return (np.asarray(raw, dtype=float) - self.lo) / max(1, self.hi - self.lo)

    def fit(self, texts, scores) -> "Lexical":
        self.model = TfidfRidge(self.lo, self.hi).fit(list(texts), scores)
        self._compiled = None
        return self

    def predict(self, texts) -> np.ndarray:
        """Normalised (0..1 scale) overall-score prediction, one value per text."""
        if self._compiled is None:
            self._compiled = compile_tfidf_ridge(self.model)
        return self._norm(self._compiled.predict_raw(list(texts)))

    def out_of_fold(self, texts, scores, splits) -> np.ndarray:
        texts, scores = list(texts), np.asarray(scores)
        out = np.zeros(len(texts))
        for tr, te in splits:
            fold = TfidfRidge(self.lo, self.hi).fit([texts[i] for i in tr], scores[tr])
            out[te] = self._norm(fold.predict_raw([texts[i] for i in te]))
        return out

    def save(self, model_dir) -> str:
        (Path(model_dir) / LEXICAL_FILE).write_bytes(pickle.dumps(self))
        return LEXICAL_FILE

    @staticmethod
    def load(model_dir) -> "Lexical":
        return pickle.loads((Path(model_dir) / LEXICAL_FILE).read_bytes())

