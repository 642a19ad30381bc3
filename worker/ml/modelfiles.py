"""Layout of one model version's directory, readable without torch (the scorer uses it).

    meta.json        targets, cut points, residual SD, tokenisation, approach, metrics, parity
    tokenizer.json   copy of the base model's tokenizer (scoring needs nothing else)
    model.int8.onnx | model.int8-mixed.onnx | model.onnx   the shipped graph (meta["onnx_file"];
                     the forms are in worker.ml.quantise)
    head.pt | model.pt   torch weights: the head alone (frozen encoder) or encoder + head
"""
from __future__ import annotations

import json
from pathlib import Path

META = "meta.json"
TOKENIZER = "tokenizer.json"
ONNX_FP32 = "model.onnx"
ONNX_INT8 = "model.int8.onnx"
ONNX_INT8_MIXED = "model.int8-mixed.onnx"
TORCH_HEAD = "head.pt"
TORCH_FULL = "model.pt"


def read_meta(model_dir) -> dict:
    path = Path(model_dir) / META
    if not path.is_file():
        raise FileNotFoundError(f"no model at {model_dir} ({META} missing)")
    return json.loads(path.read_text())


def write_meta(model_dir, meta: dict) -> None:
    path = Path(model_dir) / META
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(meta, indent=2, default=float))
    tmp.replace(path)


def shipped_onnx(model_dir) -> Path:
    meta = read_meta(model_dir)
    name = meta.get("onnx_file")
    if not name or not (Path(model_dir) / name).is_file():
        raise FileNotFoundError(f"model at {model_dir} has no exported ONNX graph")
    return Path(model_dir) / name
