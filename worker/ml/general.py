"""An optional general essay model: a ridge head on the surface features (`textfeatures`),
fitted on graded essays from OTHER prompts (`gradeloop pretrain`). Course models use its
prediction as a prior column. Surface features only (no embedding): on validation prompts it
transferred across prompts better than embedding-based heads (topic words do not transfer),
it stays valid when a course model fine-tunes its encoder, and pretraining takes seconds.

Only prompts not excluded go in: the benchmark pretrains one general model per evaluated prompt
with that prompt left out (leave-one-prompt-out), so no evaluated essay is ever seen here.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from worker.ml.ridge_head import LinearHead, class_weights, fit_ridge_cv, folds

GENERAL_FILE = "general_head.npz"


@dataclass
class GeneralModel:
    head: LinearHead
    meta: dict

    def prior_for(self, n_emb: int, n_extra: int = 0) -> LinearHead:
        """The head over [embedding, surface features, extra columns] inputs (zero weight on
        the embedding and on the course-specific extra columns)."""
        rows = self.head.W.shape[0]
        W = np.hstack([np.zeros((rows, n_emb)), self.head.W, np.zeros((rows, n_extra))])
        return LinearHead(W=W, b=self.head.b.copy())

    def save(self, out_dir) -> Path:
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        np.savez(out / GENERAL_FILE, W=self.head.W, b=self.head.b)
        (out / "general.json").write_text(json.dumps(self.meta, indent=2))
        return out

    @classmethod
    def load(cls, path) -> "GeneralModel":
        path = Path(path)
        arrays = np.load(path / GENERAL_FILE)
        return cls(LinearHead(W=arrays["W"], b=arrays["b"]), json.loads((path / "general.json").read_text()))


def fit_general(features: np.ndarray, y_norm: np.ndarray, y_int, meta: dict, seed: int = 0) -> GeneralModel:
    """Ridge on stacked surface features of all included prompts (scores normalised to 0..1;
    `y_int` gives the classes for the imbalance weights)."""
    head, _, alpha = fit_ridge_cv(np.asarray(features, dtype=float), y_norm, class_weights(y_int),
                                  folds(len(y_norm), 5, seed))
    return GeneralModel(head, {**meta, "alpha": alpha, "n": int(len(y_norm))})


def load_default(app_config) -> GeneralModel | None:
    """The general model the worker uses, if an operator pretrained one:
    `GRADELOOP_GENERAL_MODEL` (config or env), else `<data dir>/models/general/`."""
    import os

    path = app_config.get("GRADELOOP_GENERAL_MODEL") or os.environ.get("GRADELOOP_GENERAL_MODEL")
    if not path:
        path = Path(app_config.get("GRADELOOP_DATA_DIR", "instance")) / "models" / "general"
    path = Path(path)
    return GeneralModel.load(path) if (path / GENERAL_FILE).is_file() else None


def pretrain(data_dir, base_model: str, exclude_prompts=(), max_per_prompt: int = 800, seed: int = 0,
             feature_cache: dict | None = None) -> GeneralModel:
    """Fit a general model on every prompt of a PERSUADE-style folder except `exclude_prompts`
    (train.csv only). `feature_cache` (prompt -> (features, y_norm, y_int)) saves recomputation
    when the benchmark pretrains one model per left-out prompt."""
    from worker.ml.corpora import list_prompts, load_prompt
    from worker.ml.textfeatures import features_for

    cache = {} if feature_cache is None else feature_cache
    excluded = {str(p) for p in exclude_prompts}
    used = [p for p in list_prompts(data_dir) if p not in excluded]
    if not used:
        raise ValueError("no prompts left to pretrain on")
    for name in used:
        if name not in cache:
            prompt = load_prompt(data_dir, name, splits=("train", "validation"))
            train = prompt.splits["train"]
            rng = np.random.default_rng(seed)
            idx = rng.permutation(len(train.texts))[:max_per_prompt]
            y = np.asarray(train.scores)[idx]
            cache[name] = (features_for(base_model, [train.texts[i] for i in idx]),
                           (y - prompt.lo) / max(1, prompt.hi - prompt.lo), y)
    X = np.vstack([cache[p][0] for p in used])
    y_norm = np.concatenate([cache[p][1] for p in used])
    y_int = np.concatenate([cache[p][2] for p in used])
    return fit_general(X, y_norm, y_int, {"prompts": used, "excluded": sorted(excluded),
                                          "inputs": "surface-features"}, seed=seed)
