"""A trait line's next step up is the next score the teacher gave on the trait (from 3.5: the 4s,
not the 4.5s beside them); when every sentence there is already shown (often the overall teacher
sentence came from the same essays), it is the next score up after that within a point, not the
bare score.

Found in review: from 3.5, with the 4s' sentence shown, the line fell back to "Organization: 3.5
of 6." although a 4.5's sentence about organization was there to quote.
"""
from __future__ import annotations

import numpy as np

from worker.feedback.records import AssignmentView, GradedExample
from worker.feedback.retrieval import CourseIndex
from worker.feedback.select import next_step_sentence

from .conftest import PROMPT

ASSIGNMENT = {"id": 813, "prompt": PROMPT, "score_min": 1, "score_max": 6,
              "traits": [{"name": "Organization", "min": 1, "max": 6}]}
FOUR = "Organization at this level keeps each paragraph on a single idea."
FOUR_HALF = "Organization here moves between reasons with purposeful transitions throughout."


def _index(course) -> CourseIndex:
    """The course's 4s say FOUR, every other 5 graded 4.5 says FOUR_HALF, the rest no trait word."""
    examples = []
    for i, ex in enumerate(course):
        if ex.score == 4:
            examples.append(GradedExample(ex.text, 4, {"Organization": 4}, FOUR))
        elif ex.score == 5 and i % 2:
            examples.append(GradedExample(ex.text, 4.5, {"Organization": 4.5}, FOUR_HALF))
        else:
            examples.append(GradedExample(ex.text, ex.score, {"Organization": ex.score}, "Good work overall."))
    return CourseIndex(examples, AssignmentView.of(ASSIGNMENT))


def test_the_next_score_up_comes_first(course):
    index = _index(course)
    cand, score = next_step_sentence(index, np.ones(len(index.examples)), ASSIGNMENT["traits"][0], 3.5, [])
    assert (cand.text, score) == (FOUR, 4)


def test_when_its_sentences_are_shown_the_next_score_after_it_is_used(course):
    index = _index(course)
    sims, trait = np.ones(len(index.examples)), ASSIGNMENT["traits"][0]
    four, _ = next_step_sentence(index, sims, trait, 3.5, [])
    got = next_step_sentence(index, sims, trait, 3.5, [four])    # the 4s' sentence already shown
    assert got is not None, "a 4.5's sentence within a point was there to quote"
    cand, score = got
    assert (cand.text, score) == (FOUR_HALF, 4.5)


def test_never_beyond_a_point(course):
    index = _index(course)
    sims, trait = np.ones(len(index.examples)), ASSIGNMENT["traits"][0]
    four, _ = next_step_sentence(index, sims, trait, 3, [])
    assert four.text == FOUR
    assert next_step_sentence(index, sims, trait, 3, [four]) is None   # the 4.5s are 1.5 up
