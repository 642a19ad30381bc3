"""The scoring network: MiniLM encoder + attention-masked mean pooling + one linear head.

The encoder may be cut to its first layers (`GRADELOOP_ENCODER_LAYERS`; default 4 of the
packaged MiniLM-L6's 6): the mean-pooled 4th layer scored as well as the 6th on the validation
essays at two thirds of the compute (docs/benchmarks.md, "Course models").

Inputs: token ids, attention mask and the surface features of `textfeatures`; outputs one raw
value per target (overall score first, then each trait) on the normalised 0..1 scale. The same
module is what is fine-tuned, what the frozen-features approach wraps around its ridge
coefficients, and what is exported to ONNX as one graph.
"""
from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

from worker.ml.tokens import length_sorted_batches, pad_batch

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


PACKAGED_MODEL_LAYERS = 4


def encoder_layers(base_model: str, requested=None) -> int | None:
    """Layers to keep: `requested` (int, "all" or "auto"/None), else GRADELOOP_ENCODER_LAYERS,
    else 4 for the packaged MiniLM-L6 and all of any other model (not measured: a deployer's
    model keeps its depth unless they set it). None means all."""
    raw = requested if requested not in (None, "") else os.environ.get("GRADELOOP_ENCODER_LAYERS", "")
    raw = str(raw).strip().lower()
    if raw in ("", "auto"):
        from config.settings import default_base_model

        packaged = default_base_model()
        return PACKAGED_MODEL_LAYERS if packaged and Path(base_model).resolve() == Path(packaged).resolve() else None
    if raw == "all":
        return None
    if not raw.isdigit() or int(raw) < 1:
        raise ValueError(f"GRADELOOP_ENCODER_LAYERS must be a whole number >= 1, 'all' or 'auto', got {raw!r}")
    return int(raw)


def _truncate(model: nn.Module, layers: int) -> None:
    stack = getattr(getattr(model, "encoder", None), "layer", None)   # BERT, RoBERTa, MPNet, ...
    if stack is None:
        stack = getattr(getattr(model, "transformer", None), "layer", None)   # DistilBERT
    if not isinstance(stack, nn.ModuleList):
        raise ValueError(f"GRADELOOP_ENCODER_LAYERS: cannot find the layer stack of {type(model).__name__}; "
                         "use 'all' for this model")
    if layers > len(stack):
        raise ValueError(f"GRADELOOP_ENCODER_LAYERS={layers} but the base model has {len(stack)} layers")
    del stack[layers:]
    for name in ("num_hidden_layers", "n_layers"):
        if hasattr(model.config, name):
            setattr(model.config, name, layers)


def load_encoder(base_model: str, layers=None) -> nn.Module:
    """The base encoder from a local directory (`worker.ml.basemodel`: not a Hub id), cut to
    `encoder_layers(base_model, layers)`; nothing is ever downloaded."""
    from transformers import AutoModel
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()

    from worker.ml.basemodel import problem

    reason = problem(base_model)   # a local directory only (worker.ml.basemodel says what is accepted)
    if reason:
        raise FileNotFoundError(reason)
    keep = encoder_layers(base_model, layers)   # a bad setting fails before the weights load
    model = AutoModel.from_pretrained(base_model, local_files_only=True, dtype=torch.float32)
    if keep is not None:
        _truncate(model, keep)
    model.eval()
    return model


def mean_pool(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    m = mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * m).sum(1) / m.sum(1).clamp(min=1.0)


class ScoringModel(nn.Module):
    def __init__(self, encoder: nn.Module, n_features: int, n_outputs: int):
        super().__init__()
        self.encoder = encoder
        dim = encoder.config.hidden_size
        self.head = nn.Linear(dim + n_features, n_outputs)

    def embed(self, input_ids, attention_mask):
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        return mean_pool(hidden, attention_mask)

    def forward(self, input_ids, attention_mask, features):
        pooled = self.embed(input_ids, attention_mask)
        return self.head(torch.cat([pooled.float(), features], dim=-1))


@torch.inference_mode()
def embed_ids(encoder: nn.Module, ids: list[list[int]], device: torch.device,
              batch_size: int = 16, progress=None) -> np.ndarray:
    """Mean-pooled embeddings, batches grouped by length (dynamic padding). fp32 on every device,
    no autocast: the heads and cut points fitted on these must see what the fp32 ONNX graph
    computes at scoring time (bf16 embeddings on a GPU would not be)."""
    encoder.to(device).eval()
    dim = encoder.config.hidden_size
    out = np.zeros((len(ids), dim), dtype=np.float32)
    batches = length_sorted_batches([len(x) for x in ids], batch_size)
    started = time.monotonic()
    for step, batch in enumerate(batches, 1):
        input_ids, mask = pad_batch([ids[i] for i in batch])
        t_ids = torch.from_numpy(input_ids).to(device)
        t_mask = torch.from_numpy(mask).to(device)
        hidden = encoder(input_ids=t_ids, attention_mask=t_mask).last_hidden_state
        out[batch] = mean_pool(hidden.float(), t_mask).cpu().numpy()
        if progress:
            progress(step, len(batches), time.monotonic() - started)
    return out
