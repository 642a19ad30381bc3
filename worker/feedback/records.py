"""Plain records passed in and out of the feedback composer (no database types).

`GradedExample` is one graded essay of the course; `Feedback` is the result; `AssignmentView`
normalises an `Assignment` row, a dict or any object with the same attributes.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any, NamedTuple


def number(value) -> float | None:
    """`value` as a finite float, or None (trait scores arrive from JSON: anything goes)."""
    if isinstance(value, bool):
        return None
    try:
        result = float(value)
    except (TypeError, ValueError):
        return None
    return result if math.isfinite(result) else None


class GradedExample(NamedTuple):
    text: str
    score: float
    trait_scores: dict
    comment: str
    # The comment was written about people who are not on this course's roster (an imported
    # grade: last year's export, a course copy), so the roster cannot tell its names.
    outside_roster: bool = False


class GradedExamples(list):
    """A list of `GradedExample` that knows its cache key (assignment id, count, newest grade)
    and the words of the course's people's names (lower case), which no reused comment sentence
    may contain (`comments.reusable_sentences`)."""

    def __init__(self, items=(), cache_key: tuple | None = None, names: frozenset[str] = frozenset()):
        super().__init__(items)
        self.cache_key = cache_key
        self.names = names


@dataclass
class Feedback:
    text: str
    parts: list[dict] = field(default_factory=list)

    def kinds(self) -> list[str]:
        return [p["kind"] for p in self.parts]


_SOURCE_WORDS = re.compile(
    r"\b(article|passage|source|text|author|reading|story|according to|excerpt|the writer)\b", re.I)


@dataclass(frozen=True)
class AssignmentView:
    id: Any
    prompt: str
    score_min: float
    score_max: float
    traits: tuple
    text_dependent: bool

    @classmethod
    def of(cls, assignment) -> "AssignmentView":
        if isinstance(assignment, AssignmentView):
            return assignment
        get = (assignment.get if isinstance(assignment, dict)
               else lambda key, default=None: getattr(assignment, key, default))
        prompt = get("prompt", "") or ""
        traits = tuple(
            {"name": str(t["name"]), "min": t.get("min"), "max": t.get("max")}
            for t in (get("traits", None) or []) if isinstance(t, dict) and t.get("name"))
        explicit = get("text_dependent", None)
        # The Assignment table has no task type: a prompt that points at a source text is
        # text-dependent (PERSUADE's "Text dependent" prompts all do).
        dependent = bool(explicit) if explicit is not None else bool(_SOURCE_WORDS.search(prompt))
        score_min = get("score_min", None)
        score_max = get("score_max", None)
        return cls(id=get("id", None), prompt=prompt,
                   score_min=float(1 if score_min is None else score_min),
                   score_max=float(6 if score_max is None else score_max),
                   traits=traits, text_dependent=dependent)
