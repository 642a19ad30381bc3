"""A version's files reach the disk before its row is committed: every file as it finally is (graph,
meta.json, weights, tokenizer) and the directory's entries are flushed (fsync), so a power loss
right after a promotion cannot leave the promoted version with files cut short. Checked by
watching the real fsync calls: what each flushed file or directory looked like at that moment."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.worker.ml import tinymodel
from worker.ml import modelfiles


def _state(st: os.stat_result) -> tuple:
    return st.st_dev, st.st_ino, st.st_mtime_ns, st.st_size


@pytest.fixture
def flushed(monkeypatch):
    """The states (device, inode, mtime, size) files and directories were in when flushed: a file
    written under a temporary name and renamed keeps its inode. fsync itself still runs."""
    seen: set[tuple] = set()
    real = os.fsync

    def fsync(fd):
        real(fd)
        seen.add(_state(os.fstat(fd)))

    monkeypatch.setattr(os, "fsync", fsync)
    return seen


def _unflushed(model_dir: Path, flushed: set) -> list[str]:
    """The directory and files whose present state was never flushed."""
    return [path.name for path in [model_dir, *model_dir.iterdir()] if _state(path.stat()) not in flushed]


def test_meta_json_is_replaced_durably(tmp_path, flushed):
    model_dir = tmp_path / "v1"
    tinymodel.write_meta(model_dir, onnx_file=None)
    modelfiles.write_meta(model_dir, {**modelfiles.read_meta(model_dir), "onnx_file": "model.onnx"})
    assert _state((model_dir / modelfiles.META).stat()) in flushed
    assert _state(model_dir.stat()) in flushed, "the rename into meta.json is flushed too"


def test_an_exported_version_is_on_disk_before_its_row_is_written(trained, eval_set, tmp_path, flushed):
    from worker.ml.export import export_model, save_torch

    model_dir = tmp_path / "v1"
    texts, scores = eval_set
    save_torch(trained, model_dir, {"assignment_id": None})
    meta = export_model(trained, model_dir, texts[:10], scores[:10], max_qwk_drop=1.0)   # first int8 form ships
    assert (model_dir / meta["onnx_file"]).is_file()
    assert _unflushed(model_dir, flushed) == []
