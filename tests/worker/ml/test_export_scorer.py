"""ONNX export (one graph), int8 parity with the torch model on real essays, and the scorer:
no torch import, cached sessions, odd inputs handled."""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import onnx
import pytest

from tests.conftest import ROOT
from worker.ml import scorer


def test_one_graph_with_text_and_feature_inputs(exported):
    model_dir, meta = exported
    graph = onnx.load(str(model_dir / "model.onnx")).graph
    # No attention mask: the scorer never pads (the mask's additions cost 14% of an essay).
    assert [i.name for i in graph.input] == ["input_ids", "features"]
    assert [o.name for o in graph.output] == ["raw"]
    assert any(n.op_type == "Softmax" for n in graph.node)   # the encoder is inside the graph
    assert meta["onnx_file"] in ("model.int8.onnx", "model.onnx")


def test_onnx_matches_torch_on_real_essays(trained, exported, eval_set):
    model_dir, meta = exported
    texts, y = eval_set
    torch_raw = trained.predict_raw(texts)
    fp32 = scorer.raw_predictions(model_dir, texts, onnx_file="model.onnx")
    assert np.abs(fp32 - torch_raw).max() < 1e-3
    shipped = meta["parity"]["shipped"]
    drop = meta["parity"][shipped]["qwk_drop"]
    assert drop <= 0.005
    if shipped == "int8":
        int8 = scorer.raw_predictions(model_dir, texts, onnx_file="model.int8.onnx")
        assert np.abs(int8 - torch_raw).max() < 0.25   # per-channel int8 encoder, fp32 head


def test_an_essay_scores_the_same_alone_or_among_others(exported, eval_set):
    """One essay per run, unpadded: with a batch, the int8 graph's dynamic quantiser would pick
    one activation scale for all its rows, and an essay's score would depend on its neighbours."""
    model_dir, _ = exported
    texts = list(eval_set[0]) + ["Short.", eval_set[0][0]]
    together = scorer.raw_predictions(model_dir, texts)
    alone = np.vstack([scorer.raw_predictions(model_dir, [t]) for t in texts])
    assert np.array_equal(together, alone)


def test_graphs_of_older_releases_still_score(trained, exported, eval_set, tmp_path):
    """Versions promoted before the unpadded export have a graph with an attention mask; they
    keep scoring (padded batches) with the same results as a current graph of the same model."""
    import shutil
    import warnings

    import torch

    model_dir, _ = exported
    old_dir = tmp_path / "old"
    shutil.copytree(model_dir, old_dir)
    module = trained.module.to("cpu").eval()
    previous = module.encoder.config._attn_implementation
    module.encoder.set_attn_implementation("eager")
    ids, feats = torch.ones((2, 16), dtype=torch.long), torch.zeros((2, module.head.in_features - 384))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(module, (ids, torch.ones_like(ids), feats), str(old_dir / "model.onnx"), dynamo=False,
                          opset_version=17, input_names=["input_ids", "attention_mask", "features"],
                          output_names=["raw"], dynamic_axes={"input_ids": {0: "batch", 1: "seq"},
                                                              "attention_mask": {0: "batch", 1: "seq"},
                                                              "features": {0: "batch"}, "raw": {0: "batch"}})
    module.encoder.set_attn_implementation(previous)
    texts = eval_set[0]
    old = scorer.raw_predictions(old_dir, texts, onnx_file="model.onnx")
    assert scorer._load(old_dir, "model.onnx").masked and not scorer._load(model_dir, "model.onnx").masked
    assert np.abs(old - scorer.raw_predictions(model_dir, texts, onnx_file="model.onnx")).max() < 1e-4
    scorer.forget(old_dir)


def test_scores_are_on_scale_with_confidence(exported, eval_set):
    model_dir, _ = exported
    preds = scorer.score(model_dir, eval_set[0])
    assert all(1 <= p.score <= 6 and isinstance(p.score, int) for p in preds)
    assert all(0.0 <= p.confidence <= 1.0 for p in preds)
    assert all(1.0 <= p.raw <= 6.0 for p in preds)
    # Confidence means something: it is highest far from a cut point (essays unlike the training
    # ones get 0 whatever their distance: test_envelope.py).
    meta = json.loads((model_dir / "meta.json").read_text())
    cuts = meta["cuts"][0]
    usual = [p for p in preds if not p.unusual]
    assert len(usual) >= 0.9 * len(preds)
    dist = [min(abs(p.raw - c) for c in cuts) for p in usual]
    conf = [p.confidence for p in usual]
    assert np.corrcoef(dist, conf)[0, 1] > 0.5


def test_odd_inputs(exported):
    model_dir, _ = exported
    assert scorer.score(model_dir, []) == []
    huge = "Phones should be allowed at school because " * 12_000   # ~100k characters
    preds = scorer.score(model_dir, ["", "   ", huge, "Short."])
    assert len(preds) == 4 and all(1 <= p.score <= 6 for p in preds)


def test_sessions_are_cached_per_version(exported):
    model_dir, _ = exported
    scorer.score(model_dir, ["An essay."])
    first = scorer._load(model_dir)
    assert scorer._load(model_dir) is first
    scorer.forget(model_dir)
    assert scorer._load(model_dir) is not first


def test_scorer_never_imports_torch(exported):
    model_dir, _ = exported
    code = ("import sys; from worker.ml import scorer; "
            f"p = scorer.score({str(model_dir)!r}, ['Cell phones help students learn.'])[0]; "
            "assert 'torch' not in sys.modules, 'torch imported'; print(p.score)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert 1 <= int(out.stdout.strip().splitlines()[-1]) <= 6


def test_session_cache_is_bounded(exported, monkeypatch):
    """A long-running worker keeps the most recently used sessions only (~45 MB each)."""
    import shutil

    model_dir, _ = exported
    shutil.copyfile(model_dir / "model.onnx", model_dir / "second.onnx")
    monkeypatch.setenv("GRADELOOP_SCORER_SESSIONS", "1")
    first = scorer._load(model_dir, "model.onnx")
    assert scorer._load(model_dir, "model.onnx") is first         # a hit stays cached
    scorer._load(model_dir, "second.onnx")                        # another graph evicts it
    assert len(scorer._sessions) == 1
    assert scorer._load(model_dir, "model.onnx") is not first
    monkeypatch.setenv("GRADELOOP_SCORER_SESSIONS", "0")
    with pytest.raises(ValueError, match="GRADELOOP_SCORER_SESSIONS"):
        scorer._load(model_dir, "second.onnx")
    assert len(scorer._sessions) == 1
    (model_dir / "second.onnx").unlink()


def test_scorer_threads_setting(monkeypatch):
    from worker.ml.scorer import scorer_threads

    monkeypatch.setenv("GRADELOOP_SCORER_THREADS", "3")
    assert scorer_threads() == 3
    monkeypatch.setenv("GRADELOOP_SCORER_THREADS", "two")
    with pytest.raises(ValueError, match="GRADELOOP_SCORER_THREADS must be a whole number"):
        scorer_threads()
    monkeypatch.delenv("GRADELOOP_SCORER_THREADS")
    assert 1 <= scorer_threads() <= 8


def test_quantising_keeps_the_worker_log_readable(exported, tmp_path, caplog):
    """onnxruntime's quantiser logs through the root logger; its per-tensor INFO lines and its
    generic pre-processing hint stay out of the worker's log, and the int8 graph is still made."""
    import logging

    from worker.ml.quantise import quantise

    model_dir, _ = exported
    with caplog.at_level(logging.INFO):
        logging.getLogger().info("a line of our own")
        out = quantise(model_dir / "model.onnx", tmp_path / "again.int8.onnx")
        logging.getLogger().info("another line of our own")
    assert out.stat().st_size > 0
    messages = [r.getMessage() for r in caplog.records]
    assert messages == ["a line of our own", "another line of our own"], messages[:5]


def test_mixed_int8_keeps_the_down_projections_fp32_and_is_closer(exported, eval_set):
    """`int8-mixed` leaves exactly the feed-forward output products (found by their weights'
    shape) in fp32 and quantises every other encoder product; on real essays it stays closer to
    the fp32 graph than the all-int8 form (the outlier channels after GELU are what int8 loses)."""
    from worker.ml.quantise import down_projections, quantise

    model_dir, meta = exported
    fp32_graph = onnx.load(str(model_dir / "model.onnx")).graph
    down = down_projections(fp32_graph)
    assert len(down) == meta["encoder_layers"] and all("/output/dense/" in n for n in down)
    fp32 = scorer.raw_predictions(model_dir, eval_set[0], onnx_file="model.onnx")
    errors = {}
    for keep in (False, True):
        path = quantise(model_dir / "model.onnx", model_dir / f"test-keep-{keep}.onnx", keep_down_projections=keep)
        try:
            graph = onnx.load(str(path)).graph
            plain = {n.name for n in graph.node if n.op_type == "MatMul"}
            assert set(down) <= plain if keep else not set(down) & plain
            # q, k, v, attention output, feed-forward in (and out unless kept) per layer
            assert sum(n.op_type == "MatMulInteger" for n in graph.node) == (5 if keep else 6) * meta["encoder_layers"]
            errors[keep] = np.abs(scorer.raw_predictions(model_dir, eval_set[0], onnx_file=path.name) - fp32).mean()
        finally:
            scorer.forget(model_dir)
            path.unlink()
    assert errors[True] < errors[False]


def test_export_ships_the_fastest_form_that_keeps_parity(trained, exported, eval_set, tmp_path):
    """Forms are tried fastest first; each one checked before the shipped one failed parity.
    With a rule no quantised form can meet, both int8 forms are checked, fp32 ships, and no
    unshipped graph is left on disk."""
    from worker.ml.export import export_model, save_torch
    from worker.ml.quantise import CHECKED_FORMS

    _, meta = exported
    shipped = meta["parity"]["shipped"]
    checked = [f for f in CHECKED_FORMS if f in meta["parity"]]
    assert checked[-1] == shipped and meta["onnx_file"] in ("model.int8.onnx", "model.int8-mixed.onnx", "model.onnx")
    assert all(meta["parity"][f]["qwk_drop"] > 0.005 for f in checked[:-1])

    strict_dir = tmp_path / "strict"
    save_torch(trained, strict_dir, {"assignment_id": None})
    strict = export_model(trained, strict_dir, *eval_set, max_qwk_drop=-1.0)
    assert [f for f in CHECKED_FORMS if f in strict["parity"]] == list(CHECKED_FORMS)
    assert strict["parity"]["shipped"] == "fp32" and strict["onnx_file"] == "model.onnx"
    assert sorted(p.name for p in strict_dir.glob("*.onnx")) == ["model.onnx"]
    assert scorer.score(strict_dir, eval_set[0][:2])[0].score is not None


ZEN3_FLAGS = "processor\t: 0\nflags\t\t: fpu sse sse2 ssse3 fma avx f16c avx2 bmi2 sha_ni vaes\n"


def test_the_cpu_flags_tell_whether_int8_products_can_saturate():
    """x86 without VNNI (where onnxruntime's fast uint8 x int8 product saturates), with it, ARM;
    unreadable flags on x86 count as without (the scorer's exact products are then safe anyway)."""
    from worker.ml.quantise import x86_without_vnni

    assert x86_without_vnni(ZEN3_FLAGS, "x86_64") is True
    assert x86_without_vnni(ZEN3_FLAGS.replace("avx2", "avx2 avx512f avx512_vnni"), "x86_64") is False
    assert x86_without_vnni(ZEN3_FLAGS.replace("avx2", "avx2 avx_vnni"), "AMD64") is False
    assert x86_without_vnni("processor\t: 0\n", "x86_64") is True
    assert x86_without_vnni(ZEN3_FLAGS, "aarch64") is False


def _int8_weights(path) -> list[np.ndarray]:
    from onnx import numpy_helper

    graph = onnx.load(str(path)).graph
    consts = {t.name: t for t in graph.initializer}
    return [numpy_helper.to_array(consts[n.input[1]]) for n in graph.node
            if n.op_type == "MatMulInteger" and n.input[1] in consts]


@pytest.mark.parametrize("reduce_range", [True, False])
def test_int8_weights_use_the_range_asked_for(exported, tmp_path, reduce_range):
    """8-bit weights (what ships) use the whole int8 range; 7-bit ones (the benchmark's
    comparison) stay within [-64, 64], where two products always fit AVX2's int16 sums."""
    from worker.ml.quantise import quantise

    model_dir, meta = exported
    weights = _int8_weights(quantise(model_dir / "model.onnx", tmp_path / "w.onnx", reduce_range=reduce_range))
    assert len(weights) == 6 * meta["encoder_layers"] and all(w.dtype == np.int8 for w in weights)
    largest = max(int(np.abs(w.astype(int)).max()) for w in weights)
    assert largest <= 64 if reduce_range else largest == 127


def test_scorer_multiplies_int8_exactly_on_any_x86(trained, exported, eval_set):
    """On an x86 CPU without VNNI the scorer's session turns on onnxruntime's exact u8u8 products,
    so the int8 graph is closer to the fp32 graph than in a plain session, whose int16 sums
    saturate. With VNNI (this machine or not, the test says which) both give the same."""
    import onnxruntime as ort

    from worker.ml.headinputs import head_features
    from worker.ml.quantise import quantise, x86_without_vnni
    from worker.ml.tokens import head_tail_ids

    model_dir, meta = exported
    texts = eval_set[0][:12]
    path = quantise(model_dir / "model.onnx", model_dir / "test-8bit.int8.onnx", reduce_range=False)
    ids = head_tail_ids(model_dir, texts, meta["max_length"], meta["head_tokens"])
    feats = head_features(model_dir, texts, trained.lexical, trained.general)

    def raw(graph, exact: bool) -> np.ndarray:
        opts = ort.SessionOptions()
        if exact:
            opts.add_session_config_entry("session.x64quantprecision", "1")
        session = ort.InferenceSession(str(graph), opts, providers=["CPUExecutionProvider"])
        return np.array([session.run(["raw"], {"input_ids": np.asarray([row], np.int64),
                                               "features": feats[i:i + 1]})[0][0, 0] for i, row in enumerate(ids)])

    try:
        session = scorer._load(model_dir, path.name).session
        assert session.get_session_options().get_session_config_entry("session.x64quantprecision") == "1"
        fp32 = raw(model_dir / "model.onnx", False)
        exact, plain = np.abs(raw(path, True) - fp32).mean(), np.abs(raw(path, False) - fp32).mean()
        if x86_without_vnni():
            assert exact < plain
        else:
            assert exact == pytest.approx(plain, abs=1e-7)
    finally:
        scorer.forget(model_dir)
        path.unlink()
