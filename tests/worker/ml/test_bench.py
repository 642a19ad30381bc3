"""`gradeloop bench` end to end on a small slice, its summary line, leave-one-prompt-out
pretraining, and clear errors for broken corpora."""
from __future__ import annotations

import json
import re
import shutil

import numpy as np
import pytest
from click.testing import CliRunner

from worker.ml.bench import _latency_sample, _other_prompt_texts, _test_texts
from worker.ml.cli import bench_command, pretrain_command
from worker.ml.corpora import load_prompt
from worker.ml.general import pretrain
from worker.ml.textfeatures import features_for
from worker.ml.timing import interleaved_ms

LAST_LINE = re.compile(r"^mean QWK default: N=20 \d\.\d{3} \| baseline: N=20 \d\.\d{3}$")


@pytest.mark.slow
def test_bench_runs_the_worker_path_and_prints_the_summary(shared_data, tmp_path):
    out = tmp_path / "results.json"
    res = CliRunner().invoke(bench_command, ["--data", str(shared_data / "persuade"), "--prompts", "9,0", "--n", "20",
                                             "--max-test", "12", "--latency-essays", "8", "--parity-essays", "12",
                                             "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert LAST_LINE.match(res.output.strip().splitlines()[-1]), res.output[-500:]
    result = json.loads(out.read_text())
    assert {(r["prompt"], r["model"]) for r in result["rows"]} == {(p, m) for p in ("9", "0") for m in ("default", "baseline")}
    for row in result["rows"]:
        assert set(row) >= {"prompt", "n", "seed", "model", "qwk", "train_seconds", "score_ms_p50"}
    for row in (r for r in result["rows"] if r["model"] == "default"):
        assert 0.0 <= row["unusual"] <= 0.5, "a course of 20 real essays flags most of its prompt's essays"
        # Phones at school vs the Face on Mars: essays handed in to the wrong one wait for the teacher.
        assert row["other_prompts_flagged"] >= 0.8, row
        assert row["fold_qwk"] is None, "no fine-tuning compared at N=20"
    assert set(result["flagged"]["N=20"]) == {"own", "other_prompts"}
    assert set(result["latency"]) >= {"torch_eager_ms", "onnx_fp32_ms", "shipped_ms"}
    defaults = [r for r in result["rows"] if r["model"] == "default"]
    assert sum(f["runs"] for f in result["shipped"].values()) == len(defaults)
    assert all(result["shipped"][r["shipped"]]["runs"] >= 1 for r in defaults)
    assert set(result["abstention"]["mean"]) == {"all", "confident_80", "random_80"}


@pytest.mark.slow
def test_trait_mode_scores_every_ellipse_trait(shared_data, tmp_path):
    """`--traits`: one model with six trait outputs on ELLIPSE, a row per trait and model with the
    same fields as the prompt rows, and the trait summary as the last line."""
    from worker.ml.corpora import ELLIPSE_TRAITS

    out = tmp_path / "traits.json"
    res = CliRunner().invoke(bench_command, ["--data", str(shared_data / "ellipse"), "--traits", "--n", "20",
                                             "--seeds", "0", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert re.match(r"^mean trait QWK default: N=20 -?\d\.\d{3} \| baseline: N=20 -?\d\.\d{3}$",
                    res.output.strip().splitlines()[-1]), res.output[-500:]
    result = json.loads(out.read_text())
    assert {(r["trait"], r["model"]) for r in result["rows"]} == {(t, m) for t in ELLIPSE_TRAITS
                                                                  for m in ("default", "baseline")}
    for row in result["rows"]:
        assert set(row) >= {"prompt", "trait", "n", "seed", "model", "qwk", "train_seconds", "score_ms_p50"}
        assert row["score_ms_p50"] > 0 and -1 <= row["qwk"] <= 1
    assert set(result["per_trait"]["default"]) == set(ELLIPSE_TRAITS)


def test_latency_essays_come_in_turn_from_every_prompt(shared_data):
    data = shared_data / "persuade"
    tests = {p: load_prompt(data, p).splits["test"].texts for p in ("2", "7", "13")}
    per_prompt = _test_texts(data, ["2", "7", "13"], 7)
    sample = _latency_sample(per_prompt, 7)
    assert sample == [tests["2"][0], tests["7"][0], tests["13"][0], tests["2"][1], tests["7"][1],
                      tests["13"][1], tests["2"][2]]
    others = _other_prompt_texts(per_prompt)
    assert others["2"] == tests["7"][:5] + tests["13"][:5] and not set(others["7"]) & set(tests["7"])


def test_scorers_take_turns_on_each_essay():
    """Latency figures compare scorers timed on the same essays at the same moments: each essay
    goes through every scorer (warm-up first), the one going first changes from essay to essay."""
    calls = []
    fns = {name: (lambda texts, name=name: calls.append((name, texts[0]))) for name in ("torch", "fp32", "int8")}
    times = interleaved_ms(fns, ["e1", "e2", "e3", "e4"])
    assert {k: len(v) for k, v in times.items()} == {"torch": 4, "fp32": 4, "int8": 4}
    assert all(ms >= 0 for v in times.values() for ms in v)
    assert calls[:3] == [("torch", "e1"), ("fp32", "e1"), ("int8", "e1")]          # warm-up
    timed = calls[3:]
    assert [name for name, essay in timed if essay == "e2"] == ["fp32", "int8", "torch"]
    assert [name for name, essay in timed if essay == "e3"] == ["int8", "torch", "fp32"]
    assert [essay for _, essay in timed] == ["e1"] * 3 + ["e2"] * 3 + ["e3"] * 3 + ["e4"] * 3


def test_pretraining_leaves_the_evaluated_prompt_out(shared_data, base_model, tmp_path):
    model = pretrain(shared_data / "persuade", base_model, exclude_prompts=["9", "3"], max_per_prompt=30)
    assert "9" not in model.meta["prompts"] and "3" not in model.meta["prompts"]
    assert model.meta["n"] == 30 * len(model.meta["prompts"])
    res = CliRunner().invoke(pretrain_command, ["--data", str(shared_data / "persuade"), "--exclude-prompts",
                                                "0,1,2,3,4,5,7,8,9,10,11,13", "--out", str(tmp_path / "g")])
    assert res.exit_code != 0 and "no prompts left" in res.output


def test_general_model_ranks_essays_of_a_prompt_it_never_saw(shared_data, base_model, persuade, tmp_path):
    """Trees on writing features of other prompts' essays order a new prompt's essays by quality
    (no topic words, no essay of that prompt seen), and a saved copy scores identically."""
    from scipy.stats import spearmanr

    model = pretrain(shared_data / "persuade", base_model, exclude_prompts=[persuade.name], max_per_prompt=100)
    val = persuade.splits["validation"]
    pred = model.predict(base_model, val.texts)
    assert pred.shape == (len(val.texts),) and np.isfinite(pred).all()
    rho = spearmanr(pred, val.scores).statistic
    assert rho > 0.5, rho
    model.save(tmp_path / "g")
    again = type(model).load(tmp_path / "g").predict(base_model, val.texts)
    assert np.array_equal(pred, again)
    # The trainer and scorer hand over their (float32) surface features: the same inputs as
    # pretraining saw, so the trees take the same branches (float64 ones moved 12% of essays).
    assert np.array_equal(model.predict(base_model, val.texts, features_for(base_model, val.texts)), pred)
    # What a student may hand in: nothing, blanks, one endless word, no ASCII letters at all.
    odd = model.predict(base_model, ["", "   \n\n ", "a" * 200_000, "\u00e9t\u00e9 \u2014 \u4e2d\u6587"])
    assert odd.shape == (4,) and np.isfinite(odd).all()
    res = CliRunner().invoke(pretrain_command, ["--data", str(shared_data / "persuade"), "--per-prompt", "0",
                                                "--out", str(tmp_path / "g0")])
    assert res.exit_code != 0 and "--per-prompt" in res.output


def test_broken_corpus_gives_a_clear_error(shared_data, tmp_path):
    bad = tmp_path / "data" / "x"
    bad.mkdir(parents=True)
    (bad / "train.csv").write_text("text,score\nhello,3\n")
    shutil.copy(shared_data / "persuade" / "9" / "validation.csv", bad / "validation.csv")
    res = CliRunner().invoke(bench_command, ["--data", str(tmp_path / "data"), "--models", "baseline"])
    assert res.exit_code != 0 and "missing column(s) full_text, holistic_essay_score" in res.output
    res = CliRunner().invoke(bench_command, ["--data", str(tmp_path / "data"), "--prompts", "nope"])
    assert res.exit_code != 0 and "unknown prompt" in res.output
    res = CliRunner().invoke(bench_command, ["--data", str(tmp_path / "data"), "--n", "fifty"])
    assert res.exit_code != 0 and "comma-separated integers" in res.output


def test_rows_carry_both_fold_qwks_when_fine_tuning_was_compared():
    from types import SimpleNamespace

    from worker.ml.bench import _fold_qwk

    final = SimpleNamespace(approach="frozen-ridge", info={"cv_qwk": {
        "frozen-ridge": 0.79, "finetune_fold": 0.77, "frozen-ridge_fold": 0.75}})
    assert _fold_qwk(final) == {"finetune": 0.77, "frozen-ridge": 0.75}
