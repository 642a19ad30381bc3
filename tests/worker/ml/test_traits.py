"""Traits are extra outputs of the one model (ELLIPSE: real analytic scores)."""
from __future__ import annotations

import numpy as np
import pytest

from worker.ml import scorer
from worker.ml.corpora import ELLIPSE_TRAITS, load_ellipse
from worker.ml.examples import Examples
from worker.ml.metrics import qwk


@pytest.mark.slow
def test_traits_are_extra_outputs_of_one_model(shared_data, base_model, tmp_path):
    from worker.ml.export import export_model, save_torch
    from worker.ml.quantise import CHECKED_FORMS
    from worker.ml.trainer import TrainConfig, train

    data = load_ellipse(shared_data / "ellipse" / "ellipse.csv")
    texts, Y = data["train"]
    names = ["Vocabulary", "Grammar"]
    cols = [ELLIPSE_TRAITS.index(n) for n in ["Overall", *names]]
    ex = Examples(texts=texts[:60], scores=Y[:60, cols[0]].tolist(), score_min=2, score_max=10,
                  traits=[{"name": n, "min": 2, "max": 10} for n in names],
                  trait_scores=[{n: int(r[c]) for n, c in zip(names, cols[1:])} for r in Y[:60]])
    ex.trait_scores[0].pop("Grammar")          # a missing trait score does not drop the essay
    model = train(ex, TrainConfig(base_model=base_model, device="cpu"))
    assert model.module.head.out_features == 3
    model_dir = tmp_path / "traits"
    save_torch(model, model_dir, {"assignment_id": None})
    val_texts, val_Y = data["validation"]
    meta = export_model(model, model_dir, val_texts[:20], val_Y[:20][:, cols])
    # int8 parity holds every trait to the rule, not the overall score only.
    for form in CHECKED_FORMS:
        if form in meta["parity"]:
            check = meta["parity"][form]
            assert set(check["traits"]) == set(names)
            trait_drops = [t["qwk_drop"] for t in check["traits"].values()]
            assert check["qwk_drop"] == max(check["qwk_torch"] - check["qwk_onnx"], float(np.mean(trait_drops)))
    shipped = meta["parity"]["shipped"]
    assert meta["parity"][shipped]["qwk_drop"] <= 0.005 or shipped == "fp32"
    preds = scorer.score(model_dir, val_texts[:40])
    assert all(set(p.traits) == set(names) for p in preds)
    assert all(2 <= p.traits[n]["score"] <= 10 and 0 <= p.traits[n]["confidence"] <= 1
               for p in preds for n in names)
    vocab = [p.traits["Vocabulary"]["score"] for p in preds]
    assert qwk(val_Y[:40, cols[1]], vocab, 2, 10) > 0.2
    # The outputs differ: the traits are not copies of the overall score.
    assert not np.array_equal(vocab, [p.score for p in preds]) or \
        not np.array_equal([p.traits["Grammar"]["score"] for p in preds], vocab)
