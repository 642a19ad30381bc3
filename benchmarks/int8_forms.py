"""Which encoder products can stay int8? Trains courses as the worker does (`CourseRun`), then
quantises each course's fp32 graph with different products left in fp32 and compares each form
with the torch model on the course's 100 validation essays: mean |raw difference| (score points),
validation scores moved, QWK drop, and whether it keeps parity (drop <= 0.005). Prints one JSON
line per course and a summary per form; with `--time`, the first course's int8, int8-mixed and
fp32 graphs are also timed (interleaved) on test essays taken in turn from every prompt of the
run, 3 each (length drives the cost). `--weight-bits` compares 8-bit with 7-bit int8 weights
instead (`reduce_range`; the worker ships 8-bit, see `worker.ml.quantise`). About 90 s per course on 2 cores:

    .venv/bin/python -m benchmarks.int8_forms --data ../shared/data/persuade \\
        --prompts 2,9,4,11,0,7,13,1,10,3,8,5 --n 100,300 --time
"""
from __future__ import annotations

import argparse
import json
import shutil
import tempfile
from pathlib import Path

import numpy as np
import onnx

from config.settings import default_base_model
from worker.ml import scorer
from worker.ml.corpora import load_prompt
from worker.ml.course_run import CourseRun
from worker.ml.examples import Examples
from worker.ml.export import MAX_QWK_DROP, parity
from worker.ml.general import pretrain
from worker.ml.quantise import down_projections, quantise
from worker.ml.timing import interleaved_ms, pcts
from worker.ml.trainer import TrainConfig


def forms(graph, weight_bits: bool = False) -> dict:
    """Form name -> (keep the down-projections fp32, other encoder nodes kept fp32, 7-bit weights).
    `weight_bits`: instead, int8 and int8-mixed each with 8-bit and with 7-bit weights."""
    if weight_bits:
        return {f"{form} {bits}-bit": (keep_down, [], bits == 7)
                for form, keep_down in (("int8", False), ("int8-mixed", True)) for bits in (8, 7)}
    products = [n.name for n in graph.node if n.op_type == "MatMul" and not n.name.startswith("/head/")]
    down = down_projections(graph)
    layers = sorted({name.split("/layer.")[1].split("/")[0] for name in products if "/layer." in name}, key=int)
    layer = {i: [name for name in products if f"/layer.{i}/" in name] for i in layers}
    first, last = layers[0], layers[-1]
    return {"int8": (False, [], False), "int8-mixed": (True, [], False),
            f"layer {first} fp32": (False, layer[first], False), f"layer {last} fp32": (False, layer[last], False),
            f"down-projection of layer {first} fp32": (False, [n for n in down if f"/layer.{first}/" in n], False),
            f"down-projection of layer {last} fp32": (False, [n for n in down if f"/layer.{last}/" in n], False)}


def compare(final, model_dir: Path, texts, y, time_texts=None, weight_bits: bool = False) -> dict:
    """Each form against the torch model with the worker's own parity check (`export.parity`)."""
    torch_raw = final.predict_raw(texts)
    graph = onnx.load(str(model_dir / "model.onnx"), load_external_data=False).graph
    out, files = {}, {"fp32": "model.onnx"}
    for i, (name, (keep_down, keep, seven_bit)) in enumerate(forms(graph, weight_bits).items()):
        files[name] = f"form{i}.onnx"
        quantise(model_dir / "model.onnx", model_dir / files[name], keep_down_projections=keep_down, keep_nodes=keep,
                 reduce_range=seven_bit)
        check = parity(final, model_dir, files[name], texts, y, torch_raw)
        out[name] = {"mad": round(check["mean_abs_raw_diff"], 5), "moved": int(round(check["score_changed"] * len(texts))),
                     "qwk_drop": round(check["qwk_drop"], 4), "parity": bool(check["qwk_drop"] <= MAX_QWK_DROP)}
    if time_texts:
        times = interleaved_ms({name: (lambda t, f=f: scorer.score(model_dir, t, onnx_file=f))
                                for name, f in files.items() if name.split(" ")[0] in ("int8", "int8-mixed", "fp32")},
                               time_texts)
        out["p50_ms"] = {name: round(pcts(v)["p50"], 1) for name, v in times.items()}
    return out


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", required=True)
    parser.add_argument("--prompts", default="2,9,4,11,0,7,13,1,10,3,8,5")
    parser.add_argument("--n", default="100,300")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--time", action="store_true", help="time int8 / int8-mixed / fp32 on the first course")
    parser.add_argument("--weight-bits", action="store_true",
                        help="compare 8-bit with 7-bit weights (int8 and int8-mixed) instead of fp32 choices")
    args = parser.parse_args(argv)

    base_model = default_base_model()
    workdir = Path(tempfile.mkdtemp(prefix="gradeloop-int8-forms-"))
    rows, feature_cache = [], {}
    prompts = args.prompts.split(",")
    time_texts = [load_prompt(args.data, p, splits=("train", "test")).splits["test"].texts[i]
                  for i in range(3) for p in prompts] if args.time else None
    try:
        for name in prompts:
            prompt = load_prompt(args.data, name)
            train, val = prompt.splits["train"], prompt.splits["validation"]
            general = pretrain(args.data, base_model, exclude_prompts=[name], feature_cache=feature_cache)
            order = np.random.default_rng(args.seed).permutation(len(train.texts))
            config = TrainConfig(base_model=base_model, seed=args.seed, general=general)
            course = CourseRun(config, workdir, val.texts[:100], val.scores[:100])
            for n in (int(x) for x in args.n.split(",")):
                idx = order[:n].tolist()
                examples = Examples(texts=[train.texts[i] for i in idx], scores=[train.scores[i] for i in idx],
                                    score_min=prompt.lo, score_max=prompt.hi)
                final, model_dir, meta, _, _ = course.run(examples, f"{name}-{n}")
                row = {"prompt": name, "n": n, "shipped": meta["parity"]["shipped"],
                       **compare(final, model_dir, val.texts[:100], val.scores[:100], None if rows else time_texts,
                               args.weight_bits)}
                print(json.dumps(row), flush=True)
                rows.append(row)
                scorer.forget(model_dir)
                shutil.rmtree(model_dir, ignore_errors=True)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    for form in forms_in(rows):
        got = [r[form] for r in rows]
        print(f"{form:34s} parity {sum(g['parity'] for g in got)}/{len(got)}  mean |raw diff| "
              f"{np.mean([g['mad'] for g in got]):.4f}  scores moved {sum(g['moved'] for g in got)}")


def forms_in(rows) -> list[str]:
    return [k for k, v in rows[0].items() if isinstance(v, dict) and "mad" in v] if rows else []


if __name__ == "__main__":
    main()
