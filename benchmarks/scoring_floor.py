"""How much faster than torch eager can the shipped ONNX graph get on this CPU? Prints where the
int8 graph's time goes on full-length essays (512 tokens, the cost that grows with the square of
the length) and the ratio it could reach if every operator that is neither arithmetic nor a
normalisation (transposes, reshapes, quantising the activations) cost nothing.

It trains one course exactly as the worker does (`course_run.CourseRun`, as `gradeloop bench`: retrain, refit,
export, int8 parity), then times torch eager (`TrainedModel.predict_raw`) and the shipped graph
(`scorer.score`) one essay at a time, and reads onnxruntime's own profile of the same graph. Three
minutes on 2 cores:

    .venv/bin/python -m benchmarks.scoring_floor --data ../shared/data/persuade --prompt 7
"""
from __future__ import annotations

import argparse
import collections
import json
import shutil
import tempfile
from pathlib import Path

import numpy as np
import onnxruntime as ort

from config.settings import default_base_model
from worker.ml import scorer
from worker.ml.corpora import load_prompt
from worker.ml.course_run import CourseRun
from worker.ml.examples import Examples
from worker.ml.timing import interleaved_ms, pcts
from worker.ml.tokens import head_tail_ids
from worker.ml.trainer import TrainConfig

# Operator groups of the exported int8 graph (after onnxruntime's own fusions).
GROUPS = {
    "int8 matrix products": {"DynamicQuantizeMatMul", "MatMulIntegerToFloat", "MatMulInteger"},
    "fp32 attention products (QK^T, AV)": {"FusedMatMul", "MatMul"},
    "softmax": {"Softmax"},
    "layer norms, GELU": {"SkipLayerNormalization", "LayerNormalization", "Gelu", "BiasGelu"},
}
OVERHEAD = "transposes, quantising activations, other"


def profile_groups(onnx_path: Path, ids: list[list[int]], n_features: int, threads: int) -> dict:
    """Mean ms per essay in each operator group, from onnxruntime's profiler (one essay a run)."""
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    opts.enable_profiling = True
    opts.profile_file_prefix = str(Path(tempfile.gettempdir()) / "gradeloop-floor")
    session = ort.InferenceSession(str(onnx_path), opts, providers=["CPUExecutionProvider"])
    feeds = [{"input_ids": np.asarray([row], dtype=np.int64), "features": np.zeros((1, n_features), np.float32)}
             for row in ids]
    for feed in feeds:
        session.run(["raw"], feed)
    profile = Path(session.end_profiling())
    totals: dict = collections.defaultdict(float)
    for event in json.loads(profile.read_text()):
        if event.get("cat") == "Node" and event["name"].endswith("_kernel_time"):
            op = event["args"]["op_name"]
            group = next((g for g, ops in GROUPS.items() if op in ops), OVERHEAD)
            totals[group] += event["dur"] / 1000 / len(feeds)
    profile.unlink()
    return dict(totals)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", required=True)
    parser.add_argument("--prompt", default="7", help="a prompt with long essays (7: ~600 words)")
    parser.add_argument("--n", type=int, default=50, help="graded essays of the course trained")
    parser.add_argument("--essays", type=int, default=20, help="test essays of 512 tokens timed")
    args = parser.parse_args(argv)

    base_model = default_base_model()
    prompt = load_prompt(args.data, args.prompt)
    train, val, test = (prompt.splits[s] for s in ("train", "validation", "test"))
    ids = head_tail_ids(base_model, test.texts, 512, 128)
    long_idx = [i for i, row in enumerate(ids) if len(row) == 512][:args.essays]
    texts = [test.texts[i] for i in long_idx]
    workdir = Path(tempfile.mkdtemp(prefix="gradeloop-floor-"))
    try:
        examples = Examples(texts=train.texts[:args.n], scores=train.scores[:args.n],
                            score_min=prompt.lo, score_max=prompt.hi)
        course = CourseRun(TrainConfig(base_model=base_model, seed=0), workdir, val.texts[:40], val.scores[:40])
        final, model_dir, meta, _, _ = course.run(examples, "floor")
        shipped = meta["parity"]["shipped"]
        onnx_path = model_dir / meta["onnx_file"]
        times = interleaved_ms({"torch": final.predict_raw, "shipped": lambda t: scorer.score(model_dir, t)}, texts)
        torch_ms, shipped_ms = (pcts(times[k])["p50"] for k in ("torch", "shipped"))
        groups = profile_groups(onnx_path, [ids[i] for i in long_idx], final.module.head.in_features
                                - final.module.encoder.config.hidden_size, scorer.scorer_threads())
        print(f"{len(texts)} essays of prompt {args.prompt} at 512 tokens; shipped graph: {shipped}")
        graph_ms = sum(groups.values())
        outside_ms = max(0.0, shipped_ms - graph_ms)  # tokenising + feature columns, same in torch
        for group, ms in sorted(groups.items(), key=lambda kv: -kv[1]):
            print(f"  {group:48s} {ms:6.2f} ms  {100 * ms / graph_ms:4.1f}%")
        floor_ms = graph_ms - groups.get(OVERHEAD, 0.0) + outside_ms
        print(f"  outside the graph (tokens, feature columns; torch pays it too) {outside_ms:.2f} ms")
        print(f"torch eager p50 {torch_ms:.1f} ms | shipped p50 {shipped_ms:.1f} ms ({torch_ms / shipped_ms:.2f}x) "
              f"| floor with free overhead {floor_ms:.1f} ms ({torch_ms / floor_ms:.2f}x)")
    finally:
        scorer.forget(workdir / "floor")
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
