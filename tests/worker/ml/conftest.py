"""Session-wide artefacts for the course-model tests: real essays, embeddings, trained and
exported models. Training once per session keeps the area's CI time small."""
from __future__ import annotations

import numpy as np
import pytest

from config.settings import default_base_model
from worker.ml.corpora import load_prompt
from worker.ml.examples import Examples

PROMPT = "9"          # "Cell phones at school": a prompt whose essays a small model learns quickly
N_TRAIN = 60
N_EVAL = 40


@pytest.fixture(scope="session")
def base_model() -> str:
    return default_base_model()


@pytest.fixture(scope="session")
def persuade(shared_data):
    return load_prompt(shared_data / "persuade", PROMPT)


@pytest.fixture(scope="session")
def train_examples(persuade) -> Examples:
    train = persuade.splits["train"]
    idx = np.random.default_rng(0).permutation(len(train.texts))[:N_TRAIN]
    return Examples(texts=[train.texts[i] for i in idx], scores=[train.scores[i] for i in idx],
                    score_min=persuade.lo, score_max=persuade.hi)


@pytest.fixture(scope="session")
def eval_set(persuade):
    val = persuade.splits["validation"]
    return val.texts[:N_EVAL], val.scores[:N_EVAL]


@pytest.fixture(scope="session")
def embed_cache() -> dict:
    return {}


@pytest.fixture(scope="session")
def trained(train_examples, base_model, embed_cache):
    from worker.ml.trainer import TrainConfig, train

    return train(train_examples, TrainConfig(base_model=base_model, device="cpu"), embed_cache=embed_cache)


@pytest.fixture(scope="session")
def exported(trained, eval_set, tmp_path_factory):
    """The trained model saved + exported like a promoted version (int8 parity-checked)."""
    from worker.ml.export import export_model, save_torch

    model_dir = tmp_path_factory.mktemp("model") / "v1"
    save_torch(trained, model_dir, {"assignment_id": None})
    meta = export_model(trained, model_dir, *eval_set, keep_fp32=True)
    return model_dir, meta
