"""A half-point trait score picks the teacher's sentences of the level above, as training counts
it (`worker.ml.training_set.whole_score`): Python's `round` sent 4.5 to 4 and 2.5 to 2 (and 3.5
to 4), so two halves of one scale were read in opposite directions."""
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


@pytest.mark.parametrize("trait_score, level", [(4.5, 5), (2.5, 3), (3.5, 4), (4.4, 4), (6.5, 6)])
def test_half_points_pick_the_level_above(course, held_out, trait_score, level):
    examples = [GradedExample(ex.text, ex.score, {"Organization": int(ex.score)},
                              COMMENTS[int(ex.score)]) for ex in course]
    text, _ = held_out[0]
    fb = compose_feedback(text, 4, {"Organization": trait_score}, ASSIGNMENT, examples,
                          generator=False, max_sentences=0)
    [line] = [p for p in fb.parts if p["kind"] == "trait"]
    assert line["evidence"]["source"] == "teacher_comment", line["text"]
    assert line["evidence"]["tier"] == 0 and line["evidence"]["sentence"] == COMMENTS[level]
