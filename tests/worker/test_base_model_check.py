"""A worker that consumes training jobs refuses to start on an unusable `GRADELOOP_BASE_MODEL`
(naming the variable and the path), instead of starting and failing every retrain later; a
worker without the training queue does not care."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from config.settings import default_base_model
from worker.ml.basemodel import problem
from worker.runner import WorkerProcess


def test_a_training_worker_refuses_a_missing_directory(make_app, tmp_path):
    missing = str(tmp_path / "no-such-model")
    app = make_app(base_model=missing)
    with pytest.raises(ValueError) as err:
        WorkerProcess(app, queues=["scoring", "training"])
    assert "GRADELOOP_BASE_MODEL" in str(err.value) and missing in str(err.value)
    WorkerProcess(app, queues=["scoring", "gradebook"])   # scoring never loads the base model


def test_gradeloop_worker_exits_with_the_message(make_app, tmp_path):
    from lti_app.cli import main

    app = make_app(base_model=str(tmp_path / "nope"))
    result = app.test_cli_runner().invoke(main, ["worker", "--queues", "training"])
    assert result.exit_code == 1
    text = str(result.exception) + result.output
    assert "gradeloop worker: GRADELOOP_BASE_MODEL=" in text and str(tmp_path / "nope") in text


def test_what_is_accepted(tmp_path):
    assert problem(default_base_model()) is None, "the packaged MiniLM"
    assert "Hub model id" in problem("sentence-transformers/all-MiniLM-L6-v2")
    copy = tmp_path / "model"
    shutil.copytree(default_base_model(), copy)
    assert problem(str(copy)) is None
    (copy / "tokenizer.json").unlink()
    assert "tokenizer.json" in problem(str(copy))
    (copy / "model.safetensors").unlink()
    assert "model.safetensors or pytorch_model.bin" in problem(str(copy))
    assert "is empty" in problem("")
    assert problem(str(Path(default_base_model()) / "config.json")).endswith("no such directory")
