"""Reading the benchmark corpora: a PERSUADE-style folder (`<prompt>/{train,validation,test}.csv`
with `full_text`, `holistic_essay_score`) and the ELLIPSE trait file. Broken input raises
`CorpusError` with a clear message."""
from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

SPLITS = ("train", "validation", "test")
ELLIPSE_TRAITS = ("Overall", "Cohesion", "Syntax", "Vocabulary", "Phraseology", "Grammar", "Conventions")


class CorpusError(ValueError):
    pass


@dataclass
class Split:
    texts: list[str]
    scores: list[int]


@dataclass
class Prompt:
    name: str
    lo: int
    hi: int
    splits: dict[str, Split]


def _read(path: Path) -> Split:
    if not path.is_file():
        raise CorpusError(f"missing {path}")
    csv.field_size_limit(10_000_000)
    texts, scores = [], []
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        missing = {"full_text", "holistic_essay_score"} - set(reader.fieldnames or [])
        if missing:
            raise CorpusError(f"{path}: missing column(s) {', '.join(sorted(missing))}")
        for line, row in enumerate(reader, 2):
            try:
                score = float(row["holistic_essay_score"])
            except (TypeError, ValueError):
                raise CorpusError(f"{path}:{line}: score {row['holistic_essay_score']!r} is not a number") from None
            if score != int(score):
                raise CorpusError(f"{path}:{line}: score {score} is not an integer")
            texts.append(row["full_text"] or "")
            scores.append(int(score))
    if not texts:
        raise CorpusError(f"{path} has no essays")
    return Split(texts, scores)


def list_prompts(data_dir) -> list[str]:
    root = Path(data_dir)
    if not root.is_dir():
        raise CorpusError(f"data directory {root} does not exist")
    names = [p.name for p in root.iterdir() if (p / "train.csv").is_file()]
    return sorted(names, key=lambda n: (not n.isdigit(), int(n) if n.isdigit() else 0, n))


def load_prompt(data_dir, name: str, splits=SPLITS) -> Prompt:
    parts = {s: _read(Path(data_dir) / name / f"{s}.csv") for s in splits}
    # The scale is what the course's teacher used: inferred from train + validation only.
    known = [s for k in ("train", "validation") if k in parts for s in parts[k].scores]
    return Prompt(name, int(min(known)), int(max(known)), parts)


def load_ellipse(path):
    """{split: (texts, Y (n x 7) on the doubled integer scale 2..10)} and the trait names."""
    import pandas as pd

    df = pd.read_csv(path)
    missing = set(ELLIPSE_TRAITS) | {"full_text", "split"}
    missing -= set(df.columns)
    if missing:
        raise CorpusError(f"{path}: missing column(s) {', '.join(sorted(missing))}")
    out = {}
    for split in ("train", "validation", "test"):
        part = df[df["split"] == split]
        # Half points (1.0-5.0 step 0.5) become integers 2..10 so the classes are whole numbers.
        out[split] = (part["full_text"].fillna("").tolist(),
                      np.rint(part[list(ELLIPSE_TRAITS)].to_numpy(dtype=float) * 2).astype(int))
    return out
