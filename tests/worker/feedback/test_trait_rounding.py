"""A half-point trait score is read as itself (`select._trait_level`: to the nearest half): where
the course has no essay at that score it picks the teacher's sentences of the two scores beside it
alike (tier 1), no longer the level above alone, which read a half-point model's 3.5 as a 4 (before
that, Python's `round` sent 4.5 to 4 and 2.5 to 2, and 3.5 to 4). tests/worker/feedback/
test_half_point_levels.py checks the choice between the two."""
from __future__ import annotations

import pytest

from worker.feedback.compose import compose_feedback
from worker.feedback.records import GradedExample

from .conftest import PROMPT

WORDS = {1: "one", 2: "two", 3: "three", 4: "four", 5: "five", 6: "six"}
# Neither praise nor advice, so no level is ruled out for speaking against its side of the score.
COMMENTS = {s: f"The organization of this essay sits at level {w} on the scale."
            for s, w in WORDS.items()}
ASSIGNMENT = {"id": 811, "prompt": PROMPT, "score_min": 1, "score_max": 6,
              "traits": [{"name": "Organization", "min": 1, "max": 6}]}


@pytest.mark.parametrize("trait_score, levels, tier", [(4.5, (4, 5), 1), (2.5, (2, 3), 1), (3.5, (3, 4), 1),
                                                      (4.2, (4,), 0), (6.5, (6,), 0)])
def test_half_points_pick_the_levels_beside_them(course, held_out, trait_score, levels, tier):
    examples = [GradedExample(ex.text, ex.score, {"Organization": int(ex.score)},
                              COMMENTS[int(ex.score)]) for ex in course]
    text, _ = held_out[0]
    fb = compose_feedback(text, 4, {"Organization": trait_score}, ASSIGNMENT, examples,
                          generator=False, max_sentences=0)
    [line] = [p for p in fb.parts if p["kind"] == "trait"]
    assert line["evidence"]["source"] == "teacher_comment", line["text"]
    assert line["evidence"]["tier"] == tier and line["evidence"]["sentence"] in [COMMENTS[lv] for lv in levels]
