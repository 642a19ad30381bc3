"""Save a trained model, export encoder + pooling + head to ONE ONNX graph, quantise, check parity.

Export: plain `torch.onnx.export` (TorchScript exporter, dynamo=False, opset 17), inputs
`input_ids`, `features`, output `raw` (normalised, one column per target). No attention mask:
the scorer runs one essay per run, never padded, and the mask's additions cost 11-19% of an
essay's time (docs/benchmarks.md). Graphs of older releases take an `attention_mask` too; the
scorer reads either.
Quantisation (`worker.ml.quantise`): the int8 forms are tried fastest first, and the first whose
QWK on validation essays is within `max_qwk_drop` of the torch model's ships; if none is, the fp32
graph ships. Every form checked is recorded under meta["parity"].
Both `save_torch` and `export_model` end by flushing the version's files to disk
(`modelfiles.sync_version`): the pipeline commits the version row after them.
"""
from __future__ import annotations

import logging
import shutil
import warnings
from pathlib import Path

import numpy as np
import torch

from worker.ml import modelfiles
from worker.ml.metrics import qwk
from worker.ml.quantise import FORMS, quantise
from worker.ml.rounding import apply_cuts, half_up
from worker.ml.trainer import TrainedModel

log = logging.getLogger(__name__)
OPSET = 17
MAX_QWK_DROP = 0.005   # the parity rule: an ONNX form may lose at most this much QWK


def save_torch(trained: TrainedModel, model_dir: Path, extra_meta: dict | None = None) -> dict:
    model_dir = Path(model_dir)
    model_dir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(Path(trained.base_model) / modelfiles.TOKENIZER, model_dir / modelfiles.TOKENIZER)
    if trained.approach == "finetune":
        torch.save(trained.module.state_dict(), model_dir / modelfiles.TORCH_FULL)
        torch_file = modelfiles.TORCH_FULL
    else:  # encoder untouched: the base model plus this head rebuild it exactly
        torch.save(trained.module.head.state_dict(), model_dir / modelfiles.TORCH_HEAD)
        torch_file = modelfiles.TORCH_HEAD
    lexical_file = trained.lexical.save(model_dir) if trained.lexical is not None else None
    general_file = trained.general.save(model_dir) if trained.general is not None else None
    meta = {
        "approach": trained.approach,
        "lexical_file": lexical_file,
        "general_file": general_file,
        # lo/hi in training units; `step` what one unit is worth on the assignment's scale (the
        # scorer halves a half-point target's scores; absent in older versions: 1)
        "targets": [{"name": t.name, "lo": t.lo, "hi": t.hi, "step": t.step} for t in trained.targets],
        "cuts": trained.cuts,
        "sigma": trained.sigma,
        "max_length": trained.max_length,
        "head_tokens": trained.head_tokens,
        "base_model": str(trained.base_model),
        "encoder_layers": trained.module.encoder.config.num_hidden_layers,
        "torch_file": torch_file,
        "info": trained.info,
        "envelope": trained.envelope,
        "onnx_file": None,
        **(extra_meta or {}),
    }
    modelfiles.write_meta(model_dir, meta)
    modelfiles.sync_version(model_dir)
    return meta


class Unpadded(torch.nn.Module):
    """The scoring network for rows without padding: no attention mask, a plain mean over the
    tokens. On unpadded rows it computes exactly what `ScoringModel` computes with a mask of ones."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, input_ids, features):
        hidden = self.model.encoder(input_ids=input_ids).last_hidden_state
        return self.model.head(torch.cat([hidden.mean(1).float(), features], dim=-1))


def export_onnx(trained: TrainedModel, path: Path) -> Path:
    module = trained.module.to("cpu").eval()
    ids = torch.ones((2, 16), dtype=torch.long)
    feats = torch.zeros((2, module.head.in_features - module.encoder.config.hidden_size))
    # The plain attention graph, not SDPA: onnxruntime fuses it and quantises its projections;
    # the SDPA graph exported from transformers 5 scored 2x slower as int8 (docs/benchmarks.md).
    previous = module.encoder.config._attn_implementation
    module.encoder.set_attn_implementation("eager")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            _export(Unpadded(module), (ids, feats), path)
        finally:
            module.encoder.set_attn_implementation(previous)
    return path


def _export(module, args, path: Path) -> None:
    torch.onnx.export(
        module, args, str(path), dynamo=False, opset_version=OPSET,
        input_names=["input_ids", "features"], output_names=["raw"],
        dynamic_axes={"input_ids": {0: "batch", 1: "seq"}, "features": {0: "batch"}, "raw": {0: "batch"}})


def _scores(raw, trained: TrainedModel, j: int = 0) -> np.ndarray:
    return apply_cuts(raw[:, j], trained.cuts[j], trained.targets[j].lo)


def parity(trained: TrainedModel, model_dir: Path, onnx_file: str, texts, y_true, torch_raw=None) -> dict:
    """Torch eager vs an ONNX graph on the same essays: QWK of each against the teacher.
    `y_true`: overall scores, or one column per target (overall, then traits). With traits,
    `qwk_drop` is the larger of the overall score's drop and the traits' mean drop (each trait's
    is under `traits`): an int8 graph must keep the trait scores too, on average. Not the largest
    single trait's: on 40-100 essays each trait's drop is noisy, and the largest of six noisy
    figures is usually above 0.005 whatever the graph. `torch_raw`: the torch model's raw
    predictions on `texts`, when already computed for another graph."""
    from worker.ml.scorer import raw_predictions

    torch_raw = trained.predict_raw(texts) if torch_raw is None else torch_raw
    onnx_raw = raw_predictions(model_dir, texts, onnx_file=onnx_file)
    y = half_up(y_true)   # halves go up, as in training (`rounding.half_up`)
    y = y[:, None] if y.ndim == 1 else y
    per_target = []
    for j, t in enumerate(trained.targets[:y.shape[1]]):
        q_torch = qwk(y[:, j], _scores(torch_raw, trained, j), t.lo, t.hi)
        q_onnx = qwk(y[:, j], _scores(onnx_raw, trained, j), t.lo, t.hi)
        per_target.append({"qwk_torch": q_torch, "qwk_onnx": q_onnx, "qwk_drop": q_torch - q_onnx})
    trait_drop = float(np.mean([p["qwk_drop"] for p in per_target[1:]])) if len(per_target) > 1 else -1.0
    out = {"n": len(texts), **per_target[0], "qwk_drop": max(per_target[0]["qwk_drop"], trait_drop),
           "max_abs_raw_diff": float(np.abs(torch_raw - onnx_raw).max()),
           "mean_abs_raw_diff": float(np.abs(torch_raw - onnx_raw)[:, 0].mean()),
           "score_changed": float((_scores(torch_raw, trained) != _scores(onnx_raw, trained)).mean())}
    if len(per_target) > 1:
        out["traits"] = {t.name: p for t, p in zip(trained.targets[1:], per_target[1:])}
    return out


def export_model(trained: TrainedModel, model_dir: Path, val_texts, val_scores, max_qwk_drop: float = MAX_QWK_DROP,
                 keep_fp32: bool = False) -> dict:
    """Export + quantise + parity check; records the shipped file in meta.json and returns it.
    `val_scores`: overall scores, or one column per target to hold the traits to the rule too.
    `keep_fp32`: keep model.onnx beside a shipped int8 form (the benchmark times both)."""
    model_dir = Path(model_dir)
    fp32 = export_onnx(trained, model_dir / modelfiles.ONNX_FP32)
    meta = modelfiles.read_meta(model_dir)
    check: dict = {}
    shipped = None
    torch_raw = trained.predict_raw(val_texts)
    for form, filename, keep_down in FORMS:
        try:
            graph = quantise(fp32, model_dir / filename, keep_down_projections=keep_down)
        except ImportError as exc:  # quantisation needs the `onnx` package (absent on bare GPU hosts)
            check["int8_unavailable"] = str(exc)
            break
        meta["onnx_file"] = graph.name  # parity reads the graph through the scorer
        modelfiles.write_meta(model_dir, meta)
        check[form] = parity(trained, model_dir, graph.name, val_texts, val_scores, torch_raw)
        if check[form]["qwk_drop"] <= max_qwk_drop:
            shipped = form
            break
        graph.unlink()
    if shipped is None:  # the fallback is checked too, so the record says what ships
        meta["onnx_file"] = fp32.name
        modelfiles.write_meta(model_dir, meta)
        check["fp32"] = parity(trained, model_dir, fp32.name, val_texts, val_scores, torch_raw)
        shipped = "fp32"
    elif not keep_fp32:
        fp32.unlink()
    meta["parity"] = {**check, "shipped": shipped, "max_qwk_drop": max_qwk_drop}
    modelfiles.write_meta(model_dir, meta)
    modelfiles.sync_version(model_dir)
    log.info("exported %s: %s", model_dir, meta["parity"])
    return meta
