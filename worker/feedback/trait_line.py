"""How a trait's line in the written feedback names the trait and states its score ("Evidence",
"3 of 5"), and how to find that line again. The composer writes the lines (`traits.trait_lines`);
the review page restates one when the teacher changes that trait's score and keeps the AI's
feedback (`lti_app.review.decisions`). Imports nothing heavy: the web app loads it.
"""
from __future__ import annotations

import re

_NUMBER = r"\d+(?:\.\d+)?"
_SCALE = rf"{_NUMBER}(?: of {_NUMBER})?"


def fmt(x) -> str:
    x = float(x)
    return str(int(x)) if x.is_integer() else f"{x:.1f}"


def on_scale(x, top) -> str:
    return f"{fmt(x)} of {fmt(top)}" if top is not None else fmt(x)


def title(name: str) -> str:
    return name.replace("_", " ").capitalize()


def score_line(name: str, value, top) -> str:
    """A trait's line with nothing quoted: "Evidence: 3 of 5."."""
    return f"{title(name)}: {on_scale(value, top)}."


def line_of(name: str) -> re.Pattern:
    """Matches, from a line's start, each form of line `trait_lines` writes for trait `name`:
    "Evidence (3 of 5): <teacher sentence>", "Evidence: 3 of 5." and "Evidence: 3 of 5. On an
    essay scored 4 of 5 for evidence, ...", and the earlier "Evidence: 3 of 5 (about 4 in 10
    essays graded for this assignment scored higher)." that pending proposals may still carry.
    "Evidence use: ..." is another trait's line."""
    return re.compile(rf"^{re.escape(title(name))}(?: \({_SCALE}\):|: {_SCALE}(?:\.|\s\())")
