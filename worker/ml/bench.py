"""`gradeloop bench`: the course model against the TF-IDF baseline on real graded essays.

For each prompt, seed and N: sample N training essays (a teacher who graded N), retrain exactly
as the worker does for a course of that size on this hardware (held-out run + refit + ONNX
export + int8 parity check on validation essays), score test.csv with the shipped ONNX model.
Leave-one-prompt-out: the general prior for a prompt is pretrained on the OTHER prompts only.
Also reports per-essay scoring latency (torch eager vs onnxruntime fp32 vs shipped) on test essays
taken in turn from every prompt of the run (essay length drives the cost: one prompt of short
essays flatters the figures), with the model of the first run that shipped the int8 graph (the
usual case; a run whose int8 graph failed parity ships a slower form, and comparing fp32 with
itself says nothing; if no run ships int8, the last run's model), how many runs shipped each graph
form (`quantise.FORMS`, else fp32) with their median per-run p50, and whether abstaining on the least-confident
20% raises QWK on the rest. Each default row also says which share of the run's own test essays the
model named unusual (`unusual`) and which share of essays written for the run's OTHER prompts
(`OTHER_PROMPT_ESSAYS` test essays of each) it named unusual (`other_prompts_flagged`): an essay
handed in to the wrong assignment should wait for the teacher.
"""
from __future__ import annotations

import json
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from worker.ml.baseline import TfidfRidge
from worker.ml.corpora import ELLIPSE_TRAITS, load_ellipse, load_prompt
from worker.ml.course_run import CourseRun
from worker.ml.examples import Examples
from worker.ml.metrics import qwk
from worker.ml.quantise import CHECKED_FORMS, x86_without_vnni
from worker.ml.timing import interleaved_ms, latency_ms, pcts


OTHER_PROMPT_ESSAYS = 5


def _test_texts(data_dir, prompts, k: int) -> dict:
    """prompt -> its first `k` test essays."""
    return {name: load_prompt(data_dir, name, splits=("train", "test")).splits["test"].texts[:k] for name in prompts}


def _latency_sample(per_prompt: dict, k: int) -> list[str]:
    """`k` test essays taken in turn from each prompt (first essay of each, then the second...)."""
    mixed = [texts[i] for i in range(k) for texts in per_prompt.values() if i < len(texts)]
    return mixed[:k]


def _other_prompt_texts(per_prompt: dict) -> dict:
    """prompt -> the first `OTHER_PROMPT_ESSAYS` test essays of every other prompt of the run."""
    return {name: [t for other, texts in per_prompt.items() if other != name for t in texts[:OTHER_PROMPT_ESSAYS]]
            for name in per_prompt}


def _abstention(y, scores, conf, lo, hi, rng) -> dict:
    """QWK on all essays, on the 80% most confident, and on a random 80% (the control)."""
    y, scores, conf = map(np.asarray, (y, scores, conf))
    keep = np.argsort(-conf, kind="stable")[: int(round(0.8 * len(y)))]
    rand = rng.permutation(len(y))[: len(keep)]
    return {"all": qwk(y, scores, lo, hi), "confident_80": qwk(y[keep], scores[keep], lo, hi),
            "random_80": qwk(y[rand], scores[rand], lo, hi)}


def _cv_qwk(final) -> float | None:
    """The chosen approach's cross-validated QWK (a fine-tuned model has its held-out fold's)."""
    cv = final.info["cv_qwk"]
    return cv.get(final.approach, cv.get(f"{final.approach}_fold"))


def _fold_qwk(final) -> dict | None:
    """Fine-tuned and frozen-feature QWK on the fold that chose between them (when both ran):
    what `finetune.FINETUNE_MARGIN` is judged on."""
    cv = final.info["cv_qwk"]
    folds = {k.removesuffix("_fold"): v for k, v in cv.items() if k.endswith("_fold")}
    return folds or None


def _flagged_share(model_dir, texts) -> float | None:
    from worker.ml import scorer

    if not texts:
        return None
    return round(float(np.mean([bool(p.unusual) for p in scorer.score(model_dir, texts)])), 4)


def _flag_summary(rows, ns) -> dict:
    out = {}
    for n in ns:
        runs = [r for r in rows if r["model"] == "default" and r["n"] == n and r.get("other_prompts_flagged") is not None]
        if runs:
            out[f"N={n}"] = {"own": round(float(np.mean([r["unusual"] for r in runs])), 4),
                             "other_prompts": round(float(np.mean([r["other_prompts_flagged"] for r in runs])), 4)}
    return out


def _shipped_summary(rows) -> dict:
    """Graph form -> runs that shipped it and the median of their per-run scoring p50."""
    out = {}
    for form in CHECKED_FORMS:
        runs = [r["score_ms_p50"] for r in rows if r["model"] == "default" and r.get("shipped") == form]
        if runs:
            out[form] = {"runs": len(runs), "score_ms_p50_median": round(float(np.median(runs)), 1)}
    return out


def _summary(rows, ns, key="qwk") -> dict:
    out = {}
    for model in sorted({r["model"] for r in rows}):
        out[model] = {f"N={n}": round(float(np.mean([r[key] for r in rows if r["model"] == model and r["n"] == n])), 4)
                      for n in ns if any(r["model"] == model and r["n"] == n for r in rows)}
    return out


def _last_line(summary, ns, label="mean QWK") -> str:
    parts = []
    for model in ("default", "baseline"):
        if model in summary:
            parts.append(f"{model}: " + " ".join(f"N={n} {summary[model].get(f'N={n}', float('nan')):.3f}" for n in ns))
    return f"{label} " + " | ".join(parts)


def run_bench(data_dir, prompts, ns, seeds, models, base_model: str, device: str | None = None,
              out: str | None = None, latency_essays: int = 60, parity_essays: int = 100,  # per-run p50: 10
              max_test: int | None = None, echo=print, train_overrides: dict | None = None) -> dict:
    from worker.ml import scorer
    from worker.ml.general import pretrain
    from worker.ml.trainer import TrainConfig

    rows, latency, abstain, parity, meta_rows = [], {}, [], [], []
    feature_cache: dict = {}
    workdir = Path(tempfile.mkdtemp(prefix="gradeloop-bench-"))
    per_prompt = _test_texts(data_dir, prompts, max(latency_essays, OTHER_PROMPT_ESSAYS))
    latency_texts = _latency_sample(per_prompt, latency_essays)
    other_texts = _other_prompt_texts(per_prompt)
    try:
        for name in prompts:
            prompt = load_prompt(data_dir, name)
            train, val, test = (prompt.splits[s] for s in ("train", "validation", "test"))
            test_texts, test_y = test.texts[:max_test], np.asarray(test.scores[:max_test])
            general = None
            if "default" in models:
                try:
                    general = pretrain(data_dir, base_model, exclude_prompts=[name], feature_cache=feature_cache)
                except ValueError:  # a single-prompt folder: nothing else to pretrain on
                    general = None
                # Leave-one-prompt-out: the evaluated prompt never reaches the general model.
                assert general is None or name not in general.meta["prompts"]
            for seed in seeds:
                order = np.random.default_rng(seed).permutation(len(train.texts))
                config = TrainConfig(base_model=base_model, device=device, seed=seed, general=general,
                                     **(train_overrides or {}))
                course = CourseRun(config, workdir, val.texts[:parity_essays], val.scores[:parity_essays])
                for n in ns:
                    idx = order[:n].tolist()
                    ex = Examples(texts=[train.texts[i] for i in idx], scores=[train.scores[i] for i in idx],
                                  score_min=prompt.lo, score_max=prompt.hi)
                    base_row = {"prompt": name, "n": n, "seed": seed}
                    if "default" in models:
                        final, model_dir, meta, secs, export_secs = course.run(ex, f"{name}-{seed}-{n}")
                        preds = scorer.score(model_dir, test_texts)
                        scores = np.array([p.score for p in preds])
                        lat = latency_ms(lambda t, d=model_dir: scorer.score(d, t), test_texts[:10])
                        row = {**base_row, "model": "default", "qwk": qwk(test_y, scores, prompt.lo, prompt.hi),
                               "train_seconds": round(secs, 2), "score_ms_p50": pcts(lat)["p50"],
                               "export_seconds": round(export_secs, 2), "approach": final.approach,
                               "cv_qwk": _cv_qwk(final), "fold_qwk": _fold_qwk(final),
                               "shipped": meta["parity"]["shipped"],
                               # real test essays flagged as unlike the course's (worker.ml.envelope)
                               "unusual": round(float(np.mean([bool(p.unusual) for p in preds])), 4),
                               "other_prompts_flagged": _flagged_share(model_dir, other_texts[name])}
                        rows.append(row)
                        echo(json.dumps(row))
                        parity.append({**base_row, **{k: meta["parity"][k]["qwk_drop"] for k in CHECKED_FORMS
                                                      if k in meta["parity"]}})
                        abstain.append({**base_row, **_abstention(test_y, scores, [p.confidence for p in preds],
                                                                  prompt.lo, prompt.hi, np.random.default_rng(seed))})
                        last_run = (name, seed, n) == (prompts[-1], seeds[-1], ns[-1])
                        if not latency and (meta["parity"]["shipped"] == "int8" or last_run):
                            texts = latency_texts
                            times = interleaved_ms({
                                "torch_eager_ms": final.predict_raw,
                                "onnx_fp32_ms": lambda t, d=model_dir: scorer.score(d, t, onnx_file="model.onnx"),
                                "shipped_ms": lambda t, d=model_dir: scorer.score(d, t)}, texts)
                            latency = {
                                "essays": len(texts), "prompts": len(prompts), "model_of": [name, n],
                                "median_words": int(np.median([len(t.split()) for t in texts])),
                                **{k: pcts(v) for k, v in times.items()},
                                "shipped": meta["parity"]["shipped"],
                                # int8 costs more where onnxruntime must multiply exactly (quantise.py)
                                "cpu_int8": "no VNNI: exact u8u8" if x86_without_vnni() else "VNNI or not x86"}
                            echo("latency " + json.dumps(latency))
                        scorer.forget(model_dir)
                        shutil.rmtree(model_dir, ignore_errors=True)
                    if "baseline" in models:
                        started = time.monotonic()
                        bl = TfidfRidge(prompt.lo, prompt.hi).fit(ex.texts, ex.scores)
                        secs = time.monotonic() - started
                        lat = latency_ms(bl.predict, test_texts[:10])
                        row = {**base_row, "model": "baseline",
                               "qwk": qwk(test_y, bl.predict(test_texts), prompt.lo, prompt.hi),
                               "train_seconds": round(secs, 2), "score_ms_p50": pcts(lat)["p50"]}
                        rows.append(row)
                        echo(json.dumps(row))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    summary = _summary(rows, ns)
    result = {"rows": rows, "summary": summary, "train_seconds": _summary(rows, ns, "train_seconds"),
              "latency": latency, "parity_qwk_drop": parity,
              "abstention": {"runs": abstain, "mean": {k: round(float(np.mean([a[k] for a in abstain])), 4)
                                                       for k in ("all", "confident_80", "random_80")}
                             if abstain else {}},
              "flagged": _flag_summary(rows, ns), "shipped": _shipped_summary(rows)}
    if out:
        Path(out).write_text(json.dumps(result, indent=2))
    echo("train seconds " + json.dumps(result["train_seconds"]))
    if abstain:
        echo("abstention (mean QWK: all / 80% most confident / random 80%) " + json.dumps(result["abstention"]["mean"]))
    if result["shipped"]:
        echo("shipped graphs (runs, median per-run p50 ms) " + json.dumps(result["shipped"]))
    if result["flagged"]:
        echo("flagged as unusual (mean share: own test essays / other prompts' essays) " + json.dumps(result["flagged"]))
    echo(_last_line(summary, ns))
    return result


def run_traits(ellipse_csv, ns, seeds, models, base_model: str, device: str | None = None,
               out: str | None = None, echo=print) -> dict:
    """ELLIPSE: one model with the six traits as extra outputs; QWK per trait on test. Each row
    has the run's train seconds and per-essay scoring p50 (10 test essays), like the prompt rows."""
    from worker.ml import scorer
    from worker.ml.trainer import TrainConfig

    data = load_ellipse(ellipse_csv)
    (tr_texts, tr_Y), (va_texts, va_Y), (te_texts, te_Y) = data["train"], data["validation"], data["test"]
    lo, hi = 2, 10   # `load_ellipse` doubles the corpus' 1.0-5.0 half-point scale
    traits = [{"name": t, "min": lo, "max": hi} for t in ELLIPSE_TRAITS[1:]]
    rows = []
    workdir = Path(tempfile.mkdtemp(prefix="gradeloop-traits-"))
    try:
        for seed in seeds:
            order = np.random.default_rng(seed).permutation(len(tr_texts))
            for n in ns:
                idx = order[:n]
                ex = Examples(texts=[tr_texts[i] for i in idx], scores=tr_Y[idx, 0].tolist(), score_min=lo,
                              score_max=hi, traits=traits,
                              trait_scores=[dict(zip(ELLIPSE_TRAITS[1:], r[1:].tolist())) for r in tr_Y[idx]])
                base_row = {"prompt": "ellipse", "n": n, "seed": seed}
                if "default" in models:
                    # int8 parity on all seven outputs (`export.parity`)
                    course = CourseRun(TrainConfig(base_model=base_model, device=device, seed=seed), workdir,
                                       va_texts[:40], va_Y[:40])
                    _, model_dir, meta, secs, _ = course.run(ex, f"{seed}-{n}")
                    preds = scorer.score(model_dir, te_texts)
                    p50 = pcts(latency_ms(lambda t, d=model_dir: scorer.score(d, t), te_texts[:10]))["p50"]
                    for j, name in enumerate(ELLIPSE_TRAITS):
                        got = [p.score if j == 0 else p.traits[name]["score"] for p in preds]
                        row = {**base_row, "trait": name, "model": "default", "qwk": qwk(te_Y[:, j], got, lo, hi),
                               "train_seconds": round(secs, 2), "score_ms_p50": p50,
                               "shipped": meta["parity"]["shipped"]}
                        rows.append(row)
                        echo(json.dumps(row))
                    scorer.forget(model_dir)
                if "baseline" in models:
                    for j, name in enumerate(ELLIPSE_TRAITS):
                        started = time.monotonic()
                        bl = TfidfRidge(lo, hi).fit(ex.texts, tr_Y[idx, j])
                        secs = time.monotonic() - started
                        row = {**base_row, "trait": name, "model": "baseline",
                               "qwk": qwk(te_Y[:, j], bl.predict(te_texts), lo, hi), "train_seconds": round(secs, 2),
                               "score_ms_p50": pcts(latency_ms(bl.predict, te_texts[:10]))["p50"]}
                        rows.append(row)
                        echo(json.dumps(row))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    per_trait = {}
    for model in sorted({r["model"] for r in rows}):
        per_trait[model] = {t: {f"N={n}": round(float(np.mean([r["qwk"] for r in rows if r["model"] == model
                                                                and r["trait"] == t and r["n"] == n])), 4)
                                for n in ns} for t in ELLIPSE_TRAITS}
    summary = _summary(rows, ns)
    result = {"rows": rows, "per_trait": per_trait, "summary": summary}
    if out:
        Path(out).write_text(json.dumps(result, indent=2))
    echo("per trait " + json.dumps(per_trait))
    echo(_last_line(summary, ns, label="mean trait QWK"))
    return result
