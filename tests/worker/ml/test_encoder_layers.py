"""The encoder can be cut to its first layers: the default for the packaged MiniLM, the setting,
its errors, and that the cut encoder computes exactly the full model's intermediate layer."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from worker.ml.encoder import PACKAGED_MODEL_LAYERS, encoder_layers, load_encoder
from worker.ml.tokens import head_tail_ids, pad_batch


def test_default_cuts_only_the_packaged_model(base_model, tmp_path, monkeypatch):
    monkeypatch.delenv("GRADELOOP_ENCODER_LAYERS", raising=False)
    assert encoder_layers(base_model) == PACKAGED_MODEL_LAYERS
    assert encoder_layers(str(tmp_path)) is None          # a deployer's model keeps its depth
    assert encoder_layers(base_model, "all") is None
    assert encoder_layers(base_model, 2) == 2
    monkeypatch.setenv("GRADELOOP_ENCODER_LAYERS", "5")
    assert encoder_layers(base_model) == 5 and encoder_layers(str(tmp_path)) == 5
    assert encoder_layers(base_model, "auto") == PACKAGED_MODEL_LAYERS   # explicit: the automatic choice


@pytest.mark.parametrize("bad", ["0", "-1", "four", "2.5"])
def test_bad_setting_is_refused_with_its_name(base_model, bad):
    with pytest.raises(ValueError, match="GRADELOOP_ENCODER_LAYERS"):
        load_encoder(base_model, bad)


def test_more_layers_than_the_model_has_is_refused(base_model):
    with pytest.raises(ValueError, match="has 6 layers"):
        load_encoder(base_model, 7)


def test_cut_encoder_is_the_full_models_intermediate_layer(base_model, persuade):
    full, cut = load_encoder(base_model, "all"), load_encoder(base_model)
    assert cut.config.num_hidden_layers == PACKAGED_MODEL_LAYERS < full.config.num_hidden_layers
    texts = persuade.splits["validation"].texts[:3]
    ids, mask = (torch.from_numpy(a) for a in pad_batch(head_tail_ids(base_model, texts, 512, 128)))
    with torch.no_grad():
        hidden = full(input_ids=ids, attention_mask=mask, output_hidden_states=True).hidden_states
        got = cut(input_ids=ids, attention_mask=mask).last_hidden_state
    np.testing.assert_allclose(got.numpy(), hidden[PACKAGED_MODEL_LAYERS].numpy(), atol=1e-5)
    assert not np.allclose(got.numpy(), hidden[-1].numpy(), atol=1e-2)
