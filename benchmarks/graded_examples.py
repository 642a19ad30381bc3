"""What the worker reads per auto-released essay to write its feedback: the course's graded essays
(`worker.feedback.loading.load_graded_examples`). Before 2026-11-29 every call read every graded
essay's text, even while the course's feedback index stayed cached; now it reads a small key first
and the texts only when the grading state changed.

Builds one assignment of N real graded PERSUADE essays (train.csv of the prompts, in order) in a
scratch SQLite database, then times, call after call on the unchanged course: the baseline (the
full read every call made before, `_read_examples`) and `load_graded_examples` as the worker calls
it (a cache hit after the first call). Prints per-call p50/p95 milliseconds, statements and peak
Python memory of one call, and the ratio of medians. About a minute on 2 cores:

    .venv/bin/python -m benchmarks.graded_examples --data ../shared/data/persuade --graded 300,1000
"""
from __future__ import annotations

import argparse
import csv
import statistics
import tempfile
import time
import tracemalloc
from pathlib import Path

from sqlalchemy import event

from lti_app import create_app
from lti_app.extensions import db
from lti_app.models import Assignment, Grade, GradeSource, Submission, SubmissionStatus, User
from tests.coursework.helpers import build_world
from worker.feedback import loading


def _essays(data: Path, n: int) -> list[tuple[str, int]]:
    found: list[tuple[str, int]] = []
    for prompt in sorted(p for p in data.iterdir() if (p / "train.csv").is_file()):
        with open(prompt / "train.csv", newline="", encoding="utf-8") as f:
            found += [(r["full_text"], int(float(r["holistic_essay_score"]))) for r in csv.DictReader(f)]
        if len(found) >= n:
            return found[:n]
    raise SystemExit(f"only {len(found)} essays under {data}")


def _course(essays) -> tuple:
    folder = tempfile.mkdtemp(prefix="gl-examples-")
    app = create_app(env="test", data_dir=folder, secret_key="bench", database_url=f"sqlite:///{folder}/b.db",
                     broker_url="memory://")
    with app.app_context():
        db.create_all()
    world = build_world(app)
    with app.app_context():
        for i, (text, score) in enumerate(essays):
            user = User(platform_id=world.platform, sub=f"bench-{i}", name=f"Student {i}")
            db.session.add(user)
            db.session.flush()
            essay = Submission(assignment_id=world.assignment_a, user_id=user.id, text=text,
                               word_count=len(text.split()), status=SubmissionStatus.GRADED)
            db.session.add(essay)
            db.session.flush()
            db.session.add(Grade(submission_id=essay.id, score=score, source=GradeSource.TEACHER, score_min=1,
                                 score_max=6, comment="Clear position. Add evidence for each reason."))
        db.session.commit()
    return app, world.assignment_a


def _one_call(fn) -> tuple[int, float]:
    """(statements, peak MB) of one call."""
    statements = []
    listener = lambda *args: statements.append(1)   # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    tracemalloc.start()
    try:
        fn()
        peak = tracemalloc.get_traced_memory()[1] / 1e6
    finally:
        tracemalloc.stop()
        event.remove(db.engine, "before_cursor_execute", listener)
    return len(statements), peak


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--graded", default="300,1000", help="course sizes, comma-separated")
    parser.add_argument("--calls", type=int, default=30, help="timed calls of each, alternating")
    args = parser.parse_args(argv)
    for n in (int(x) for x in args.graded.split(",")):
        app, assignment_id = _course(_essays(args.data, n))
        with app.app_context():
            assignment = db.session.get(Assignment, assignment_id)
            fns = {"baseline: full read every call": lambda: loading._read_examples(assignment, None),
                   "load_graded_examples": lambda: loading.load_graded_examples(assignment_id)}
            for fn in fns.values():
                fn()   # warm-up (and the first, caching, call)
            times: dict[str, list[float]] = {name: [] for name in fns}
            for i in range(args.calls):
                for name in (list(fns) if i % 2 == 0 else list(fns)[::-1]):
                    db.session.expire_all()
                    started = time.perf_counter()
                    fns[name]()
                    times[name].append((time.perf_counter() - started) * 1000)
            chars = db.session.scalar(db.select(db.func.sum(db.func.length(Submission.text))))
            print(f"course: {n} graded essays, {chars / 1e6:.1f} M characters of essay text")
            for name, fn in fns.items():
                db.session.expire_all()
                statements, peak = _one_call(fn)
                ordered = sorted(times[name])
                print(f"  {name:32s} p50 {statistics.median(ordered):8.1f} ms  "
                      f"p95 {ordered[int(0.95 * (len(ordered) - 1))]:8.1f} ms  "
                      f"{statements} statements  peak {peak:6.1f} MB")
            base, new = (statistics.median(times[name]) for name in fns)
            print(f"  ratio of medians (baseline / load_graded_examples): {base / new:.1f}x")


if __name__ == "__main__":
    main()
