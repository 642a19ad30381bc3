"""Hardware choice for training: CUDA with mixed precision when present, else CPU fp32.

`GRADELOOP_DEVICE=cpu|cuda` overrides the automatic choice. On CUDA, fine-tuning runs under bf16
autocast where the GPU has bf16 (Ampere and later), fp16 with loss scaling where it has not (T4,
V100: bf16 autocast refuses to run there); `GRADELOOP_PRECISION=bf16|fp16|fp32` overrides. Seeds
are fixed for reproducibility.
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


PRECISIONS = {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": None}


def mixed_precision(device: torch.device, bf16_supported: bool | None = None):
    """The autocast dtype for training on `device`, or None for plain fp32 (always on CPU: bf16
    on CPU is slower on most hosts)."""
    choice = (os.environ.get("GRADELOOP_PRECISION") or "auto").strip().lower()
    if choice != "auto" and choice not in PRECISIONS:
        raise ValueError(f"GRADELOOP_PRECISION must be bf16, fp16, fp32 or auto, not {choice!r}")
    if device.type != "cuda":
        return None
    if choice != "auto":
        return PRECISIONS[choice]
    if bf16_supported is None:
        bf16_supported = torch.cuda.is_bf16_supported()
    return torch.bfloat16 if bf16_supported else torch.float16


def autocast(device: torch.device):
    dtype = mixed_precision(device)
    return torch.autocast(device.type, dtype=dtype) if dtype is not None else contextlib.nullcontext()


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)
