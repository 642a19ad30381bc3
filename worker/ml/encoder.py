"""The scoring network: MiniLM encoder + attention-masked mean pooling + one linear head.

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

from worker.ml.device import autocast
from worker.ml.tokens import length_sorted_batches, pad_batch

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def load_encoder(base_model: str) -> nn.Module:
    """The base encoder from a local directory; nothing is ever downloaded."""
    from transformers import AutoModel
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()

    if not base_model or not Path(base_model).is_dir():
        raise FileNotFoundError(f"base model directory not found: {base_model!r}")
    model = AutoModel.from_pretrained(base_model, local_files_only=True, dtype=torch.float32)
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
    """Mean-pooled embeddings, batches grouped by length (dynamic padding)."""
    encoder.to(device).eval()
    dim = encoder.config.hidden_size
    out = np.zeros((len(ids), dim), dtype=np.float32)
    batches = length_sorted_batches([len(x) for x in ids], batch_size)
    started = time.monotonic()
    for step, batch in enumerate(batches, 1):
        input_ids, mask = pad_batch([ids[i] for i in batch])
        t_ids = torch.from_numpy(input_ids).to(device)
        t_mask = torch.from_numpy(mask).to(device)
        with autocast(device):
            hidden = encoder(input_ids=t_ids, attention_mask=t_mask).last_hidden_state
        out[batch] = mean_pool(hidden.float(), t_mask).cpu().numpy()
        if progress:
            progress(step, len(batches), time.monotonic() - started)
    return out
