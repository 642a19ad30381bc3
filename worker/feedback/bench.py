"""Benchmark: feedback latency per essay on a course of real graded essays.

    python -m worker.feedback.bench --data ../shared/data/persuade --prompt 0 --graded 300

Prints the one-off index build, the per-essay time with the cached index (the worker's steady
state) and, as the baseline measured in the same run, the per-essay time when the index is
rebuilt for every essay (no cache). PERSUADE has no teacher comments, so each graded essay gets
a short comment from a small per-score bank written here (latency does not depend on wording).
"""
from __future__ import annotations

import argparse
import csv
import statistics
import time
from pathlib import Path

from worker.feedback import cache
from worker.feedback.compose import compose_feedback
from worker.feedback.records import GradedExample

BANK = {
    1: "Take a clear side. Find facts in the article to support it. Proofread your spelling.",
    2: "Your reasons are thin and need support. Add evidence from the article and explain it.",
    3: "Your claim is clear with some evidence. Explain how the evidence supports the claim.",
    4: "Your argument uses the article well. Use transitions between your paragraphs.",
    5: "This is a well organized argument. Tighten the conclusion so it restates the claim.",
    6: "Your argument is precise and well supported. Your conventions are nearly flawless.",
}


def _rows(folder: Path, split: str) -> list[dict]:
    with open(folder / f"{split}.csv", newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="../shared/data/persuade")
    ap.add_argument("--prompt", default="0")
    ap.add_argument("--graded", type=int, default=300)
    ap.add_argument("--essays", type=int, default=100)
    ap.add_argument("--uncached", type=int, default=5, help="essays timed without the cache")
    args = ap.parse_args(argv)
    folder = Path(args.data) / args.prompt
    train = _rows(folder, "train")[:args.graded]
    examples = [GradedExample(r["full_text"], int(r["holistic_essay_score"]), {},
                              BANK[int(r["holistic_essay_score"])]) for r in train]
    new = [(r["full_text"], int(r["holistic_essay_score"])) for r in _rows(folder, "validation")]
    new = new[:args.essays]
    assignment = {"id": 1, "prompt": "Using the article, write an argumentative essay.",
                  "score_min": 1, "score_max": 6}

    compose_feedback("Warm up the imports.", 3, {}, {**assignment, "id": 0}, examples[:5])
    cache.clear()
    t0 = time.perf_counter()
    compose_feedback(*new[0], {}, assignment, examples)
    build = time.perf_counter() - t0

    warm, same_band, sentences = [], 0, 0
    for text, score in new:
        t0 = time.perf_counter()
        fb = compose_feedback(text, score, {}, assignment, examples)
        warm.append(time.perf_counter() - t0)
        tiers = [p["evidence"]["tier"] for p in fb.parts if p["kind"] == "teacher"]
        sentences += len(tiers)
        same_band += sum(1 for t in tiers if t == 0)

    cold = []
    for text, score in new[:args.uncached]:
        cache.clear()
        t0 = time.perf_counter()
        compose_feedback(text, score, {}, assignment, examples)
        cold.append(time.perf_counter() - t0)

    ms = [1000 * w for w in warm]
    print(f"course: persuade/{args.prompt}, {len(examples)} graded essays; {len(new)} new essays")
    print(f"index build (once per course state): {1000 * build:.0f} ms")
    print(f"per essay, cached index: mean {statistics.fmean(ms):.1f} ms, "
          f"p95 {sorted(ms)[int(0.95 * (len(ms) - 1))]:.1f} ms, max {max(ms):.1f} ms")
    print(f"baseline per essay, index rebuilt each time: mean {1000 * statistics.fmean(cold):.0f} ms")
    print(f"speed-up of the cache: {statistics.fmean(cold) / statistics.fmean(warm):.0f}x")
    print(f"teacher sentences per essay: {sentences / len(new):.2f}; "
          f"from the same score band: {100 * same_band / max(1, sentences):.0f}%")


if __name__ == "__main__":
    main()
