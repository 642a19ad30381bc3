"""The general essay model: gradient-boosted trees on prompt-independent writing features
(`stylefeatures`), fitted on graded essays from OTHER prompts (`gradeloop pretrain`).

A course model stacks its prediction as one more input column (like the lexical column), and the
course's own ridge decides how much to trust it and recalibrates it to the course's scale and
level. Trees, not a linear head: on validation essays of held-out prompts the tree model
recalibrated to 300 course essays reached QWK 0.739 against 0.705 for a ridge on the plain
surface features, and stacking it raised the course model's validation QWK at every N
(docs/models.md). Embedding-based general heads did not help (topic words do not transfer).

Only prompts not excluded go in: the benchmark pretrains one general model per evaluated prompt
with that prompt left out (leave-one-prompt-out), so no evaluated essay is ever seen here.
Each course model version keeps its own copy (`general.pkl`), so re-pretraining never changes
how an already promoted version scores. The copy includes the English word list its spelling
columns were counted against (`words`, ~160,000 words, ~2 MB): the live list is pyspellchecker's
dictionary, and a new release of that package would otherwise change the inputs of every model
in service without retraining it (adding eight words moved a test course's SMD from -0.13 to +0.20).
"""
from __future__ import annotations

import json
import pickle
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from worker.feedback.spelling import english_words
from worker.ml.stylefeatures import STYLE_NAMES, style_matrix
from worker.ml.trees import FlatTrees

GENERAL_FILE = "general.pkl"
META_FILE = "general.json"
TREE_PARAMS = dict(max_iter=300, learning_rate=0.05, max_leaf_nodes=15, min_samples_leaf=40,
                   l2_regularization=1.0)


@dataclass
class GeneralModel:
    trees: FlatTrees         # the fitted HistGradientBoostingRegressor, flattened (`trees.py`)
    meta: dict
    # The word list of its spelling columns, frozen at pretraining. None in models pickled before
    # it was stored: they were fitted on the list of the pyspellchecker release then installed.
    words: frozenset | None = None

    def predict(self, vocab_dir, texts, surface: np.ndarray | None = None) -> np.ndarray:
        """Predicted overall score on the normalised 0..1 scale, one value per text. `surface`:
        the texts' surface features if already computed (they are the first columns)."""
        from worker.ml.tokens import load_vocab

        return self.trees.predict(style_matrix(texts, load_vocab(str(vocab_dir)), surface, self.words))

    def save(self, out_dir) -> str:
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        (out / GENERAL_FILE).write_bytes(pickle.dumps(self))
        (out / META_FILE).write_text(json.dumps(self.meta, indent=2))
        return GENERAL_FILE

    @classmethod
    def load(cls, path) -> "GeneralModel":
        return pickle.loads((Path(path) / GENERAL_FILE).read_bytes())


def fit_general(features: np.ndarray, y_norm: np.ndarray, meta: dict, seed: int = 0,
                words: frozenset | None = None) -> GeneralModel:
    """Trees on the stacked style features of all included prompts (scores normalised to 0..1).
    `words`: the English word list `features` were computed with (default: the live one)."""
    from sklearn.ensemble import HistGradientBoostingRegressor

    words = frozenset(english_words() if words is None else words)
    model = HistGradientBoostingRegressor(random_state=seed, **TREE_PARAMS)
    model.fit(np.asarray(features, dtype=np.float64), np.asarray(y_norm, dtype=np.float64))
    return GeneralModel(FlatTrees.from_sklearn(model), {**meta, "n": int(len(y_norm)), "inputs": list(STYLE_NAMES),
                                "model": "HistGradientBoostingRegressor", "params": TREE_PARAMS,
                                "english_words": word_list_source(words)}, words)


def word_list_source(words: frozenset) -> dict:
    """What the frozen list is, for `general.json`: its size, a digest, and the package it came from."""
    import hashlib
    from importlib import metadata

    try:
        version = metadata.version("pyspellchecker")
    except metadata.PackageNotFoundError:  # pragma: no cover - a declared dependency
        version = None
    digest = hashlib.sha256("\n".join(sorted(words)).encode()).hexdigest()[:16]
    return {"n": len(words), "sha256_16": digest, "pyspellchecker": version}


def load_default(app_config) -> GeneralModel | None:
    """The general model the worker uses, if an operator pretrained one:
    `GRADELOOP_GENERAL_MODEL` (config or env), else `<data dir>/models/general/`."""
    import os

    path = app_config.get("GRADELOOP_GENERAL_MODEL") or os.environ.get("GRADELOOP_GENERAL_MODEL")
    if not path:
        path = Path(app_config.get("GRADELOOP_DATA_DIR", "instance")) / "models" / "general"
    path = Path(path)
    return GeneralModel.load(path) if (path / GENERAL_FILE).is_file() else None


def pretrain(data_dir, base_model: str, exclude_prompts=(), max_per_prompt: int = 2000, seed: int = 0,
             feature_cache: dict | None = None) -> GeneralModel:
    """Fit a general model on every prompt of a PERSUADE-style folder except `exclude_prompts`
    (train.csv only). `feature_cache` (prompt -> (features, y_norm)) saves recomputation when
    the benchmark pretrains one model per left-out prompt."""
    from worker.ml.corpora import list_prompts, load_prompt
    from worker.ml.tokens import load_vocab

    cache = {} if feature_cache is None else feature_cache
    excluded = {str(p) for p in exclude_prompts}
    used = [p for p in list_prompts(data_dir) if p not in excluded]
    if not used:
        raise ValueError("no prompts left to pretrain on")
    vocab = load_vocab(str(base_model))
    words = english_words()
    for name in used:
        if name not in cache:
            prompt = load_prompt(data_dir, name, splits=("train", "validation"))
            train = prompt.splits["train"]
            idx = np.random.default_rng(seed).permutation(len(train.texts))[:max_per_prompt]
            y = np.asarray(train.scores, dtype=np.float64)[idx]
            cache[name] = (style_matrix([train.texts[i] for i in idx], vocab, english=words),
                           (y - prompt.lo) / max(1, prompt.hi - prompt.lo))
    X = np.vstack([cache[p][0] for p in used])
    y_norm = np.concatenate([cache[p][1] for p in used])
    return fit_general(X, y_norm, {"prompts": used, "excluded": sorted(excluded)}, seed=seed, words=words)
