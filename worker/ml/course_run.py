"""One simulated course, trained and exported exactly as the worker does (retrain with a held-out
run, refit on all essays, save, ONNX export, int8 parity): what `gradeloop bench` and
`benchmarks/scoring_floor.py` measure."""
from __future__ import annotations

import time
from pathlib import Path

from worker.ml.examples import Examples


class CourseRun:
    """Train and export one simulated course with the worker's code (the caller scores it)."""

    def __init__(self, config, workdir: Path, parity_texts, parity_scores):
        self.config, self.workdir = config, workdir
        self.parity_texts, self.parity_scores = parity_texts, parity_scores

    def run(self, examples: Examples, tag: str):
        from worker.ml.export import export_model, save_torch
        from worker.ml.retrain import retrain

        started = time.monotonic()
        result = retrain(examples, self.config)
        final, _ = result.refit(examples, self.config)
        train_seconds = time.monotonic() - started
        model_dir = self.workdir / tag
        started = time.monotonic()
        save_torch(final, model_dir, {"assignment_id": None, "bench": tag})
        meta = export_model(final, model_dir, self.parity_texts, self.parity_scores, keep_fp32=True)
        return final, model_dir, meta, train_seconds, time.monotonic() - started
