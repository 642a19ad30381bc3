"""Full fine-tuning of encoder + head, tried only when it can pay off within the time budget.

Training set built with `datasets.Dataset.from_dict` (plain list of dicts when `datasets` is not
installed, e.g. on a bare GPU host), dynamic padding by `DataCollatorWithPadding`, batches grouped
by length (shuffled mega-batches sorted by length). Loss: class-weighted MSE on the normalised
scores of every target. The comparison with the ridge head is on the same held-out fold.
"""
from __future__ import annotations

import logging
import time

import numpy as np
import torch

from worker.ml.device import autocast, mixed_precision, seed_everything
from worker.ml.encoder import ScoringModel, load_encoder
from worker.ml.metrics import qwk
from worker.ml.rounding import apply_cuts, default_cuts
from worker.ml.tokens import head_tail_ids

log = logging.getLogger(__name__)

# Measured with MiniLM-L6: a training step (forward + backward + AdamW) costs ~3x a forward pass,
# and 256 tokens run ~1.6x faster than 512 for these essay lengths.
TRAIN_COST_PER_FORWARD = 3.0
SPEEDUP_256 = 1.6
# On CPU the estimate above was ~3x too low: in the benchmark on 2 cores (4-layer encoder, N=300,
# docs/benchmarks.md) fine-tuning's held-out run took ~165 s where ~56 s were estimated, pushing
# a retrain to 205 s, past the 3-minute target. Backward + AdamW on CPU cost far more than 3
# forward passes, and other work on the machine slows them further.
CPU_ESTIMATE_MARGIN = 3.0
# Fine-tuning replaces the frozen-feature model only when it beats it on the held-out fold by this
# much QWK. The fold holds ~60 essays at N=300, where a QWK moves by +-0.05 between samples, and
# fine-tuned models scored below the frozen-feature model on test in 4 of 6 measured runs, by
# 0.016 on average (N=300, prompts 0, 2, 11, on a GPU at 512 tokens and on CPU at 256;
# docs/benchmarks.md): a narrow fold win is more likely noise than a better model.
FINETUNE_MARGIN = 0.03


def plan(config, device: torch.device, n: int, embed_seconds: float, spent_seconds: float = 0.0) -> dict:
    """Decide whether to try fine-tuning, at which length, and what it would cost.
    `spent_seconds`: what this retrain has used already (encoding, the ridge heads); the budget
    is for the whole retrain, so fine-tuning gets only what is left of it."""
    max_length = config.max_length if device.type == "cuda" else min(256, config.max_length)
    per_essay = embed_seconds / max(1, n) / (SPEEDUP_256 if max_length < config.max_length else 1.0)
    # Held-out run on (k-1)/k of the essays, then the refit on all of them.
    est = per_essay * TRAIN_COST_PER_FORWARD * config.epochs * n * (2.0 - 1.0 / config.cv_folds)
    if device.type != "cuda":
        est *= CPU_ESTIMATE_MARGIN
    out = {"max_length": max_length, "head_tokens": min(config.head_tokens, max_length // 4),
           "est_seconds": round(est, 1)}
    if config.finetune == "never":
        return {**out, "try": False, "reason": "disabled"}
    if config.finetune == "always":
        return {**out, "try": True, "reason": "forced"}
    if n < config.min_finetune_n:
        return {**out, "try": False, "reason": f"n={n} < {config.min_finetune_n}: too few to compare"}
    left = config.budget_seconds - spent_seconds
    if est > left:
        return {**out, "try": False, "reason": f"estimated {est:.0f}s > {left:.0f}s left of the "
                                               f"{config.budget_seconds:.0f}s budget"}
    return {**out, "try": True, "reason": "fits the budget"}


def _rows(ids, feats, labels, weights):
    rows = {"input_ids": ids, "attention_mask": [[1] * len(x) for x in ids],
            "features": feats.tolist(), "labels": labels.tolist(), "weight": weights.tolist()}
    try:
        from datasets import Dataset
    except ImportError:  # bare GPU host: same rows, as plain dicts
        return [dict(zip(rows, vals)) for vals in zip(*rows.values())]
    return Dataset.from_dict(rows)


def _length_grouped(lengths, batch_size: int, rng: np.random.Generator) -> list[list[int]]:
    order = rng.permutation(len(lengths))
    mega = batch_size * 8
    batches = []
    for i in range(0, len(order), mega):
        chunk = sorted(order[i:i + mega].tolist(), key=lambda j: lengths[j])
        batches += [chunk[k:k + batch_size] for k in range(0, len(chunk), batch_size)]
    rng.shuffle(batches)
    return batches


def _collator(base_model: str):
    from transformers import AutoTokenizer, DataCollatorWithPadding

    tok = AutoTokenizer.from_pretrained(base_model, local_files_only=True)
    return DataCollatorWithPadding(tok, return_tensors="pt")


def fit(texts, feats, Yn, weights, init_head, config, device, plan_, progress, label: str) -> ScoringModel:
    """Fine-tune a fresh copy of the encoder with the given head initialisation."""
    seed_everything(config.seed)
    ids = head_tail_ids(config.base_model, texts, plan_["max_length"], plan_["head_tokens"])
    data = _rows(ids, feats, Yn, weights)
    collate = _collator(config.base_model)
    module = ScoringModel(load_encoder(config.base_model, config.encoder_layers), feats.shape[1], Yn.shape[1])
    with torch.no_grad():
        module.head.weight.copy_(torch.from_numpy(init_head.W).float())
        module.head.bias.copy_(torch.from_numpy(init_head.b).float())
    module.to(device).train()
    enc_lr = 5e-5 if device.type == "cuda" else 4e-5
    opt = torch.optim.AdamW([{"params": module.encoder.parameters(), "lr": enc_lr},
                             {"params": module.head.parameters(), "lr": 1e-4}], weight_decay=0.01)
    rng = np.random.default_rng(config.seed)
    lengths = [len(x) for x in ids]
    steps_per_epoch = -(-len(ids) // config.batch_size)
    total = steps_per_epoch * config.epochs
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / max(1, total // 10)) * max(0.0, (total - s) / total))
    # fp16 gradients underflow without loss scaling; bf16 and fp32 need none.
    scaler = torch.amp.GradScaler(device.type, enabled=mixed_precision(device) == torch.float16)
    step, started = 0, time.monotonic()
    for epoch in range(config.epochs):
        for batch_idx in _length_grouped(lengths, config.batch_size, rng):
            batch = collate([data[i] for i in batch_idx])
            batch = {k: v.to(device) for k, v in batch.items()}
            with autocast(device):
                out = module(batch["input_ids"], batch["attention_mask"], batch["features"].float())
            err = (out.float() - batch["labels"].float()) ** 2
            loss = (err.mean(1) * batch["weight"].float()).mean()
            opt.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            scaler.unscale_(opt)
            torch.nn.utils.clip_grad_norm_(module.parameters(), 1.0)
            scaler.step(opt)
            scaler.update()
            sched.step()
            step += 1
            elapsed = time.monotonic() - started
            progress("fine-tune", step, total, elapsed / step * (total - step),
                     f"{label}: epoch {epoch + 1}/{config.epochs}, loss {loss.item():.4f}")
    return module.eval()


@torch.inference_mode()
def predict_norm(module: ScoringModel, texts, feats, plan_, config, device) -> np.ndarray:
    from worker.ml.encoder import embed_ids

    ids = head_tail_ids(config.base_model, texts, plan_["max_length"], plan_["head_tokens"])
    emb = embed_ids(module.encoder, ids, device, config.batch_size)
    x = torch.cat([torch.from_numpy(emb), torch.from_numpy(np.asarray(feats, dtype=np.float32))], dim=-1)
    return module.head.to("cpu")(x).numpy() if device.type == "cpu" else \
        module.head(x.to(device)).float().cpu().numpy()


def finetune_wins(ft_qwk: float, ridge_qwk: float, mode: str) -> bool:
    """Whether the fine-tuned model ships: it must beat the frozen-feature model on the same fold by
    FINETUNE_MARGIN; "always" ships it regardless (GPU checks, experiments)."""
    return mode == "always" or ft_qwk >= ridge_qwk + FINETUNE_MARGIN


def compare_and_fit(examples, Y, Yn, weights, splits, ridge, config, device, plan_, progress) -> dict:
    """Fine-tune on the first CV fold's training part, compare with ridge on its held-out part;
    when fine-tuning wins, refit it on every essay. `ridge` carries `fold_head(idx)`, `oof` and
    the head's input `features` (lexical column out of fold)."""
    started = time.monotonic()
    tr, te = splits[0]
    texts = examples.texts
    target = examples.targets[0]
    feats = ridge["features"]
    module = fit([texts[i] for i in tr], feats[tr], Yn[tr], weights[tr], ridge["fold_head"](tr), config, device,
                 plan_, progress, "held-out run")
    pred_te = predict_norm(module, [texts[i] for i in te], feats[te], plan_, config, device)
    cut = default_cuts(target.lo, target.hi)
    y_te = np.rint(Y[te, 0]).astype(int)
    ft_qwk = qwk(y_te, apply_cuts(target.denormalise(pred_te[:, 0]), cut, target.lo), target.lo, target.hi)
    ridge_qwk = qwk(y_te, apply_cuts(target.denormalise(ridge["oof"][te, 0]), cut, target.lo),
                    target.lo, target.hi)
    wins = finetune_wins(ft_qwk, ridge_qwk, config.finetune)
    result = {"fold_qwk": ft_qwk, "ridge_fold_qwk": ridge_qwk, "wins": wins, "held_out": te,
              "pred_held_out": pred_te}
    if result["wins"]:
        result["module"] = fit(texts, feats, Yn, weights, ridge["head"], config, device, plan_, progress,
                               "final run")
    result["seconds"] = round(time.monotonic() - started, 2)
    return result
