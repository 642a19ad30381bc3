"""Train one course model from plain lists (no Flask): the code path shared by the worker
(`pipeline.train_assignment`), the benchmark and `scripts/gpu_check.sh`.

Approaches:
- `frozen-ridge`: mean-pooled encoder embedding + surface features + stacked columns (the
  course's TF-IDF prediction out of fold, the general essay model's prediction) -> an average of
  ridge heads (see MEMBERS); always fitted, its CV QWK is recorded.
- `finetune`: the whole encoder + head trained end to end, started from the ridge head; tried
  when its estimated time fits the retrain budget on this hardware, and kept only if it beats
  the ridge head on the same held-out fold (see docs/models.md).
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import numpy as np
import torch

from worker.ml import envelope, rounding
from worker.ml.device import pick_device, seed_everything
from worker.ml.encoder import ScoringModel, embed_ids, load_encoder
from worker.ml.examples import Examples, Target
from worker.ml.general import GeneralModel
from worker.ml.metrics import qwk
from worker.ml.ridge_head import LinearHead, class_weights, fit_head, fit_ridge_cv, folds
from worker.ml.headinputs import head_features
from worker.ml.lexical import Lexical
from worker.ml.textfeatures import features_for
from worker.ml.tokens import DEFAULT_HEAD, DEFAULT_MAX_LENGTH, head_tail_ids

log = logging.getLogger(__name__)

# The frozen-features head is the average of three ridge fits (name, surface features only?,
# embedding scale): the embedding scale < 1 penalises the 384 embedding dimensions harder than
# the surface features. Averaging linear heads is still one linear head. On validation essays
# the average beat picking one member per course by CV QWK (that pick is noisy below ~300
# essays); see docs/models.md.
MEMBERS = (
    ("features", True, 1.0),
    ("embedding@0.3", False, 0.3),
    ("embedding@0.1", False, 0.1),
)


# Fewest essays one fit accepts. The worker's pipeline holds out at least 5 more
# (`retrain.MIN_HOLDOUT`) before its first fit, so `pipeline.MIN_GRADED` is 10 + 5.
MIN_EXAMPLES = 10


@dataclass
class TrainConfig:
    base_model: str
    device: str | None = None            # None: GRADELOOP_DEVICE or automatic
    max_length: int = DEFAULT_MAX_LENGTH
    head_tokens: int = DEFAULT_HEAD
    seed: int = 0
    cv_folds: int = 5
    finetune: str = "auto"               # auto (compare) | never | always (fine-tune and ship it)
    budget_seconds: float = 150.0        # whole retrain on this hardware (N=300 must fit 3 min)
    min_finetune_n: int = 200
    epochs: int = 3
    batch_size: int = 16
    lexical: bool = True                 # stack the TF-IDF ridge's prediction as a feature
    encoder_layers: int | str | None = None   # None/"auto": encoder.encoder_layers decides
    general: GeneralModel | None = None


def _noop(*_args, **_kw) -> None:
    return None


@dataclass
class TrainedModel:
    module: ScoringModel
    approach: str
    targets: list[Target]
    cuts: list[list[float]]
    sigma: list[float]
    max_length: int
    head_tokens: int
    base_model: str
    lexical: Lexical | None = None
    general: GeneralModel | None = None
    info: dict = field(default_factory=dict)
    envelope: dict | None = None      # surface-feature range and anchor words of the training essays (`envelope.py`)

    @torch.inference_mode()
    def predict_raw(self, texts, batch_size: int = 16) -> np.ndarray:
        """Raw predictions in score units (torch eager, CPU), one column per target."""
        ids = head_tail_ids(self.base_model, texts, self.max_length, self.head_tokens)
        feats = torch.from_numpy(head_features(self.base_model, texts, self.lexical, self.general))
        emb = torch.from_numpy(embed_ids(self.module.encoder, ids, torch.device("cpu"), batch_size))
        norm = self.module.head(torch.cat([emb, feats], dim=-1)).numpy()
        return np.stack([t.denormalise(norm[:, j]) for j, t in enumerate(self.targets)], axis=1)

    def predict(self, texts) -> np.ndarray:
        raw = self.predict_raw(texts)
        return np.stack([rounding.apply_cuts(raw[:, j], self.cuts[j], t.lo)
                         for j, t in enumerate(self.targets)], axis=1)


def _cut_points(oof_norm, Y, targets):
    """Per target: tuned cut points and the residual SD of out-of-fold predictions."""
    cuts, sigma = [], []
    for j, t in enumerate(targets):
        raw = t.denormalise(oof_norm[:, j])
        y = rounding.half_up(Y[:, j])
        cuts.append(rounding.fit_cuts(raw, y, t.lo, t.hi))
        sigma.append(float(np.std(raw - Y[:, j])) or 0.5)
    return cuts, sigma


def _oof_qwk(oof_norm, Y, target: Target) -> float:
    pred = rounding.apply_cuts(target.denormalise(oof_norm[:, 0]), rounding.default_cuts(target.lo, target.hi), target.lo)
    return qwk(rounding.half_up(Y[:, 0]), pred, target.lo, target.hi)


def _module_with_head(encoder, head: LinearHead, n_features: int) -> ScoringModel:
    module = ScoringModel(encoder, n_features, head.W.shape[0])
    with torch.no_grad():
        module.head.weight.copy_(torch.from_numpy(head.W).float())
        module.head.bias.copy_(torch.from_numpy(head.b).float())
    return module.eval()


def _embed_cached(encoder, config, texts, device, cache, progress):
    """Embeddings of `texts`, computing only those not yet in `cache` (text -> vector): the
    pipeline's final refit on all essays reuses the held-out run's work."""
    cache = {} if cache is None else cache
    todo = list(dict.fromkeys(t for t in texts if t not in cache))
    if todo:
        ids = head_tail_ids(config.base_model, todo, config.max_length, config.head_tokens)
        for text, vec in zip(todo, embed_ids(encoder, ids, device, config.batch_size, progress=progress)):
            cache[text] = vec
    return np.stack([cache[t] for t in texts])


def train(examples: Examples, config: TrainConfig, progress=None, embed_cache: dict | None = None) -> TrainedModel:
    """Fit a course model on `examples`. `progress(phase, step, total, eta_s, message)`;
    `embed_cache` (text -> embedding) may be shared between calls with the same config."""
    progress = progress or _noop
    started = time.monotonic()
    if len(examples) < MIN_EXAMPLES:
        raise ValueError(f"need at least {MIN_EXAMPLES} graded essays to train, got {len(examples)}")
    seed_everything(config.seed)
    device = pick_device(config.device)
    targets = examples.targets
    Y = examples.y_matrix()
    Yn = np.stack([t.normalise(Y[:, j]) for j, t in enumerate(targets)], axis=1)
    y_int = rounding.half_up(Y[:, 0])
    weights = class_weights(y_int)

    progress("features", 0, len(examples), None, "encoding essays")
    encoder = load_encoder(config.base_model, config.encoder_layers)
    t0 = time.monotonic()

    def _embed_progress(step, total, elapsed):
        progress("features", step, total, elapsed / step * (total - step), "encoding essays")

    n_new = len(set(examples.texts) - set(embed_cache or {}))
    emb = _embed_cached(encoder, config, examples.texts, device, embed_cache, _embed_progress)
    # Per-essay cost (for the fine-tuning estimate) from what was actually encoded.
    embed_seconds = (time.monotonic() - t0) * len(examples) / max(1, n_new)
    progress("cross-validation", 0, 2, None, "fitting the heads")
    splits = folds(len(examples), config.cv_folds, config.seed)
    lexical = None
    surface = features_for(config.base_model, examples.texts)
    feats = surface
    if config.lexical:
        lexical = Lexical(targets[0].lo, targets[0].hi)
        lex_oof = lexical.out_of_fold(examples.texts, Y[:, 0], splits)
        lexical.fit(examples.texts, Y[:, 0])
        feats = np.hstack([feats, lex_oof[:, None]])
    if config.general is not None:
        # Honest as it is: the general model never saw this course's essays.
        feats = np.hstack([feats, config.general.predict(config.base_model, examples.texts, surface)[:, None]])
    X = np.hstack([emb, feats]).astype(np.float64)
    feat_mask = np.zeros(X.shape[1], dtype=bool)
    feat_mask[emb.shape[1]:] = True
    members = {}
    for name, only_feats, scale in MEMBERS:
        mask = feat_mask if only_feats else None
        head, oof, alpha = fit_ridge_cv(X, Yn, weights, splits, mask=mask, emb_scale=scale, n_emb=emb.shape[1])
        members[name] = {"head": head, "oof": oof, "alpha": alpha, "mask": mask, "scale": scale}
    ridge_head = LinearHead(W=np.mean([m["head"].W for m in members.values()], axis=0),
                            b=np.mean([m["head"].b for m in members.values()], axis=0))
    oof = np.mean([m["oof"] for m in members.values()], axis=0)
    cv = {name: round(_oof_qwk(m["oof"], Y, targets[0]), 4) for name, m in members.items()}
    cv["frozen-ridge"] = round(_oof_qwk(oof, Y, targets[0]), 4)
    module = _module_with_head(encoder, ridge_head, feats.shape[1])
    approach, max_length = "frozen-ridge", config.max_length
    info = {"device": device.type, "embed_seconds": round(embed_seconds, 2),
            "alphas": {name: m["alpha"] for name, m in members.items()},
            "general_prior": config.general is not None, "cv_qwk": cv}

    def fold_head(idx):
        heads = [fit_head(X[idx], Yn[idx], weights[idx], m["alpha"], m["mask"], emb_scale=m["scale"],
                          n_emb=emb.shape[1]) for m in members.values()]
        return LinearHead(W=np.mean([h.W for h in heads], axis=0), b=np.mean([h.b for h in heads], axis=0))

    from worker.ml import finetune  # torch-heavy, only when training

    plan = finetune.plan(config, device, len(examples), embed_seconds, time.monotonic() - started)
    info["finetune_plan"] = plan
    head_tokens, cut_rows = config.head_tokens, np.arange(len(examples))
    if plan["try"]:
        # Out-of-fold lexical column: what the head saw in cross-validation, never its own fit.
        ridge = {"head": ridge_head, "oof": oof, "fold_head": fold_head, "features": feats.astype(np.float32)}
        tuned = finetune.compare_and_fit(examples, Y, Yn, weights, splits, ridge, config, device, plan, progress)
        cv["finetune_fold"] = round(tuned["fold_qwk"], 4)
        cv["frozen-ridge_fold"] = round(tuned["ridge_fold_qwk"], 4)
        info["finetune_seconds"] = tuned["seconds"]
        if tuned["wins"]:
            approach, module = "finetune", tuned["module"]
            max_length, head_tokens = plan["max_length"], plan["head_tokens"]
            # Only the held-out fold has honest predictions of the fine-tuned model.
            cut_rows, oof = tuned["held_out"], tuned["pred_held_out"]

    cuts, sigma = _cut_points(oof, Y[cut_rows], targets)
    info["train_seconds"] = round(time.monotonic() - started, 2)
    info["n_train"] = len(examples)
    progress("done", 1, 1, 0.0, f"{approach} chosen (CV QWK {cv})")
    module.to("cpu").eval()
    return TrainedModel(module=module, approach=approach, targets=targets, cuts=cuts, sigma=sigma,
                        max_length=max_length, head_tokens=head_tokens,
                        base_model=config.base_model, lexical=lexical, general=config.general, info=info,
                        envelope=envelope.fit(surface, examples.texts))
