"""Layout of one model version's directory, readable without torch (the scorer uses it).

    meta.json        targets, cut points, residual SD, tokenisation, approach, metrics, parity
    tokenizer.json   copy of the base model's tokenizer (scoring needs nothing else)
    model.int8.onnx | model.int8-mixed.onnx | model.onnx   the shipped graph (meta["onnx_file"];
                     the forms are in worker.ml.quantise)
    head.pt | model.pt   torch weights: the head alone (frozen encoder) or encoder + head

A version lives at `<GRADELOOP_DATA_DIR>/models/assignment-<id>/v<N>/` and `ModelVersion.path`
stores that directory as it was when it was written (absolute: the data dir is resolved at
start). `resolve_dir` finds it again after the data dir moved. Missing files raise
`MissingFiles`, a `FileNotFoundError` that names the path that is missing.
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
MODELS = "models"   # <data dir>/models/assignment-<id>/v<N>


class MissingFiles(FileNotFoundError):
    """A model version's files are not where they should be; `path` is the one that is missing."""

    def __init__(self, message: str, path):
        super().__init__(message)
        self.path = str(path)


def resolve_dir(stored, data_dir=None) -> Path:
    """The directory of a version whose stored path may predate a move of the data dir.

    Paths are stored absolute, so after an operator moves `GRADELOOP_DATA_DIR` (a new volume
    mount, a restored backup) every stored path points into the old place. When the stored
    directory is gone but `<data dir>/models/<assignment-N>/<vN>` (the same last two parts, which
    `versions.version_dir` builds) exists, that is the version. Otherwise the stored path is
    returned unchanged, so errors name what the database says."""
    path = Path(stored)
    if path.is_dir() or not data_dir or len(path.parts) < 2:
        return path
    moved = Path(data_dir) / MODELS / path.parent.name / path.name
    return moved if moved.is_dir() else path


def read_meta(model_dir) -> dict:
    path = Path(model_dir) / META
    if not path.is_file():
        raise MissingFiles(f"no model at {model_dir} ({path} is missing)", path)
    return json.loads(path.read_text())


def write_meta(model_dir, meta: dict) -> None:
    path = Path(model_dir) / META
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(meta, indent=2, default=float))
    tmp.replace(path)


def shipped_onnx(model_dir) -> Path:
    meta = read_meta(model_dir)
    name = meta.get("onnx_file")
    if not name:
        raise MissingFiles(f"model at {model_dir} has no exported ONNX graph", Path(model_dir))
    graph = Path(model_dir) / name
    if not graph.is_file():
        raise MissingFiles(f"model at {model_dir} lost its ONNX graph ({graph} is missing)", graph)
    return graph
