"""Hardware choice for training: CUDA with bf16 autocast when present, else CPU.

`GRADELOOP_DEVICE=cpu|cuda` overrides the automatic choice; seeds are fixed for reproducibility.
"""
from __future__ import annotations

import contextlib
import os
import random

import numpy as np
import torch


def pick_device(requested: str | None = None) -> torch.device:
    choice = (requested or os.environ.get("GRADELOOP_DEVICE") or "auto").lower()
    if choice == "auto":
        choice = "cuda" if torch.cuda.is_available() else "cpu"
    if choice == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("GRADELOOP_DEVICE=cuda but no CUDA device is available")
    if choice not in ("cpu", "cuda"):
        raise ValueError(f"GRADELOOP_DEVICE must be cpu, cuda or auto, not {choice!r}")
    return torch.device(choice)


def autocast(device: torch.device):
    """bf16 autocast on CUDA; on CPU plain fp32 (bf16 on CPU is slower on most hosts)."""
    if device.type == "cuda":
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)
