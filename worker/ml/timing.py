"""Per-essay latency of scoring functions, for the benchmarks (`gradeloop bench`,
`benchmarks/scoring_floor.py`): one essay per call, functions timed in turn on each essay."""
from __future__ import annotations

import time

import numpy as np


def latency_ms(fn, texts) -> list[float]:
    return interleaved_ms({"one": fn}, texts)["one"]


def interleaved_ms(fns: dict, texts) -> dict[str, list[float]]:
    """Per-essay milliseconds of each scoring function, one essay at a time. The functions take
    turns on each essay (in rotating order), so a shared machine that slows down for a few seconds
    slows all of them alike: timed one after another, two runs' ratios differed by 15%."""
    names = list(fns)
    for name in names:
        fns[name](texts[:1])  # warm-up: session creation, first-call allocations
    out: dict[str, list[float]] = {name: [] for name in names}
    for i, t in enumerate(texts):
        for name in names[i % len(names):] + names[:i % len(names)]:
            started = time.perf_counter()
            fns[name]([t])
            out[name].append((time.perf_counter() - started) * 1000)
    return out


def pcts(values) -> dict:
    return {"p50": round(float(np.percentile(values, 50)), 2), "p95": round(float(np.percentile(values, 95)), 2)}
