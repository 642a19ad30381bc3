"""Layout of one model version's directory, readable without torch (the scorer uses it).

    meta.json        targets, cut points, residual SD, tokenisation, approach, metrics, parity
    tokenizer.json   copy of the base model's tokenizer (scoring needs nothing else)
    model.int8.onnx | model.int8-mixed.onnx | model.onnx   the shipped graph (meta["onnx_file"];
                     the forms are in worker.ml.quantise)
    head.pt | model.pt   torch weights: the head alone (frozen encoder) or encoder + head

A version lives at `<GRADELOOP_DATA_DIR>/models/assignment-<id>/v<N>/` and `ModelVersion.path`
stores that directory as it was when it was written (absolute: the data dir is resolved at
start). `resolve_dir` finds it again after the data dir moved. Missing files raise
`MissingFiles`, a `FileNotFoundError` that names the path that is missing; a meta.json that is
there but cannot be read (truncated, not JSON) raises `UnreadableFiles`, a `ValueError`.

The files are written durably (`write_meta`, `sync_dir`): the version row is committed after them,
and PostgreSQL makes that row survive a power loss, so the files must too, or a promoted version
could point at truncated ones.
"""
from __future__ import annotations

import errno
import json
import os
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


class UnreadableFiles(ValueError):
    """A model version's file is there but cannot be read (truncated by a crash, damaged by a bad
    restore): no retry brings it back. `path` is the file."""

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
    try:
        meta = json.loads(path.read_text())
    except ValueError as exc:   # JSONDecodeError, UnicodeDecodeError
        raise UnreadableFiles(f"the model at {model_dir} cannot be read ({path} is damaged: {exc})", path) from exc
    if not isinstance(meta, dict):
        raise UnreadableFiles(f"the model at {model_dir} cannot be read ({path} holds no settings)", path)
    return meta


def write_meta(model_dir, meta: dict) -> None:
    """Replace meta.json atomically and durably: the new file's data, then its name."""
    path = Path(model_dir) / META
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w") as f:
        f.write(json.dumps(meta, indent=2, default=float))
        f.flush()
        os.fsync(f.fileno())
    tmp.replace(path)
    sync_dir(model_dir)


def sync_version(model_dir) -> None:
    """Flush every file of a version directory to disk, then the directory itself: graphs and
    weights written by torch and onnx, which do not. Files already on disk cost next to nothing."""
    model_dir = Path(model_dir)
    for path in model_dir.iterdir():
        if path.is_file() and not path.is_symlink():
            fd = os.open(path, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
    sync_dir(model_dir)


def sync_dir(model_dir) -> None:
    """Flush a directory's entries (files created, renamed or removed in it) to disk."""
    if not hasattr(os, "O_DIRECTORY"):   # Windows: a directory cannot be opened to flush it
        return
    fd = os.open(model_dir, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    except OSError as exc:
        if exc.errno not in (errno.EINVAL, errno.ENOTSUP):   # filesystems that cannot sync a directory
            raise
    finally:
        os.close(fd)


def shipped_onnx(model_dir) -> Path:
    meta = read_meta(model_dir)
    name = meta.get("onnx_file")
    if not name:
        raise MissingFiles(f"model at {model_dir} has no exported ONNX graph", Path(model_dir))
    graph = Path(model_dir) / name
    if not graph.is_file():
        raise MissingFiles(f"model at {model_dir} lost its ONNX graph ({graph} is missing)", graph)
    return graph
