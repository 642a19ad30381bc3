"""Training on real essays: better than the majority score, reproducible, long essays cut
head + tail on purpose, too little data refused, CUDA used when present."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from worker.ml.metrics import agreement, qwk
from worker.ml.tokens import head_tail_ids, load_tokenizer


def test_small_model_beats_the_most_common_score(trained, train_examples, eval_set):
    texts, y = eval_set
    pred = trained.predict(texts)[:, 0]
    majority = np.full(len(y), np.bincount(train_examples.scores).argmax())
    model_qwk, majority_qwk = qwk(y, pred, 1, 6), qwk(y, majority, 1, 6)
    assert model_qwk > majority_qwk + 0.3, (model_qwk, majority_qwk)
    assert model_qwk > 0.5
    assert agreement(y, pred)[1] >= agreement(y, majority)[1]  # adjacent agreement no worse
    assert trained.approach == "frozen-ridge" and trained.info["device"] == "cpu"
    assert set(trained.info["cv_qwk"]) >= {"features", "embedding@0.3", "embedding@0.1", "frozen-ridge"}


def test_training_is_reproducible(trained, train_examples, base_model):
    """From the essays again, encoder pass included (no shared embedding cache)."""
    from worker.ml.trainer import TrainConfig, train

    again = train(train_examples, TrainConfig(base_model=base_model, device="cpu"))
    assert torch.equal(again.module.head.weight, trained.module.head.weight)
    assert again.cuts == trained.cuts


def test_long_essays_keep_head_and_tail(base_model):
    words = [f"word{i}" for i in range(3000)]
    text = " ".join(words)
    (ids,) = head_tail_ids(base_model, [text], max_length=512, head=128)
    full = load_tokenizer(base_model).encode(text).ids
    assert len(ids) == 512 and len(full) > 3000
    assert ids[:129] == full[:129]                 # [CLS] + the first 128 tokens
    assert ids[129:] == full[-(512 - 129):]        # the last tokens + [SEP]


def test_too_few_grades_are_refused(train_examples, base_model):
    from worker.ml.trainer import TrainConfig, train

    with pytest.raises(ValueError, match="at least 10"):
        train(train_examples.subset(range(5)), TrainConfig(base_model=base_model, device="cpu"))


def test_device_override_is_checked(monkeypatch):
    from worker.ml.device import pick_device

    monkeypatch.setenv("GRADELOOP_DEVICE", "cpu")
    assert pick_device().type == "cpu"
    monkeypatch.setenv("GRADELOOP_DEVICE", "tpu")
    with pytest.raises(ValueError):
        pick_device()


def test_fine_tuning_runs_on_cpu_too(train_examples, base_model, eval_set):
    """The fine-tuning path (`datasets` rows, dynamic padding, length-grouped batches, loss
    scaling off) on CPU, short: 30 essays, one epoch, 128 tokens (~10 s). The CUDA test below
    covers it on a GPU; without this, CI would never run it."""
    from worker.ml.encoder import load_encoder
    from worker.ml.trainer import TrainConfig, train

    config = TrainConfig(base_model=base_model, device="cpu", finetune="always", epochs=1, max_length=128,
                         head_tokens=32)
    model = train(train_examples.subset(range(30)), config)
    assert model.approach == "finetune"
    base = load_encoder(base_model, model.module.encoder.config.num_hidden_layers)
    tuned = dict(model.module.encoder.named_parameters())
    assert any(not torch.equal(p, tuned[name]) for name, p in base.named_parameters()), "encoder unchanged"
    raw = model.predict_raw(eval_set[0][:8])
    assert np.isfinite(raw).all() and raw.std() > 0


def test_mixed_precision_follows_the_gpu(monkeypatch):
    """bf16 where the GPU has it, fp16 (with loss scaling) where it has not: bf16 autocast
    refuses to run on a T4 or V100. CPU trains in fp32. GRADELOOP_PRECISION overrides."""
    from worker.ml.device import mixed_precision

    cuda, cpu = torch.device("cuda"), torch.device("cpu")
    monkeypatch.delenv("GRADELOOP_PRECISION", raising=False)
    assert mixed_precision(cuda, bf16_supported=True) == torch.bfloat16
    assert mixed_precision(cuda, bf16_supported=False) == torch.float16
    assert mixed_precision(cpu, bf16_supported=True) is None
    monkeypatch.setenv("GRADELOOP_PRECISION", "fp32")
    assert mixed_precision(cuda, bf16_supported=True) is None
    monkeypatch.setenv("GRADELOOP_PRECISION", "fp16")
    assert mixed_precision(cuda, bf16_supported=True) == torch.float16
    monkeypatch.setenv("GRADELOOP_PRECISION", "half")
    with pytest.raises(ValueError, match="GRADELOOP_PRECISION"):
        mixed_precision(cpu)


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_training_on_cuda_with_bf16(train_examples, base_model, eval_set):
    from worker.ml.trainer import TrainConfig, train

    model = train(train_examples, TrainConfig(base_model=base_model, device="cuda", finetune="always", epochs=1))
    assert model.info["device"] == "cuda" and model.approach == "finetune"
    texts, y = eval_set
    assert qwk(y, model.predict(texts)[:, 0], 1, 6) > 0.3


def test_fine_tuning_only_gets_what_is_left_of_the_budget(base_model):
    """The retrain budget covers the whole retrain: an estimate that fits the budget but not what
    encoding and the ridge heads left of it is not tried."""
    from worker.ml import finetune
    from worker.ml.trainer import TrainConfig

    config = TrainConfig(base_model=base_model, budget_seconds=150)
    cpu = torch.device("cpu")
    fresh = finetune.plan(config, cpu, 300, embed_seconds=3.0, spent_seconds=0.0)
    assert fresh["try"] and fresh["est_seconds"] < 150, fresh
    late = finetune.plan(config, cpu, 300, embed_seconds=3.0, spent_seconds=150 - fresh["est_seconds"] + 1)
    assert not late["try"] and "left of the 150s budget" in late["reason"], late
    assert not finetune.plan(config, cpu, 100, embed_seconds=1.0)["try"]          # too few essays to compare
    # CPU estimates carry the measured margin (and 256 tokens); CUDA's do not (512 tokens)
    gpu = finetune.plan(config, torch.device("cuda"), 300, embed_seconds=3.0)
    assert fresh["est_seconds"] / gpu["est_seconds"] == pytest.approx(
        finetune.CPU_ESTIMATE_MARGIN / finetune.SPEEDUP_256, rel=0.01)
    # the N=300 retrain of the benchmark (embedding ~15 s on 2 cores) no longer tries it
    assert not finetune.plan(config, cpu, 300, embed_seconds=15.0, spent_seconds=25.0)["try"]


def test_fine_tuning_must_win_its_fold_by_a_margin():
    """A fold of ~60 essays cannot tell a narrow win from noise (docs/benchmarks.md)."""
    from worker.ml.finetune import FINETUNE_MARGIN, finetune_wins

    assert not finetune_wins(0.76, 0.75, "auto"), "a narrow win keeps the frozen-feature model"
    assert finetune_wins(0.75 + FINETUNE_MARGIN, 0.75, "auto")
    assert finetune_wins(0.60, 0.75, "always"), "forced runs ship it regardless"
