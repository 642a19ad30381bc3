"""A half-point score (a half-point model proposes 3.5 for about 40% of an ELLIPSE-style course's
essays) is compared as itself, not as the point above: its teacher sentences come from essays the
teacher graded 3.5 where the course has them, else from 3s and 4s alike (a 4's alone read it as a
4), and a trait line's next step up is the next score the teacher gave. Whole points as before."""
from __future__ import annotations

import numpy as np

from worker.feedback.compose import compose_feedback
from worker.feedback.records import AssignmentView, GradedExample
from worker.feedback.retrieval import CourseIndex
from worker.feedback.select import next_step_sentence, teacher_sentences

from .conftest import PROMPT

WORDS = {1: "one", 2: "two", 3: "three", 3.5: "three and a half", 4: "four", 5: "five", 6: "six"}
# Neither praise nor advice, so no level is ruled out for speaking against its side of the score.
COMMENTS = {s: f"The organization of this essay sits at level {w} on the scale." for s, w in WORDS.items()}
ASSIGNMENT = {"id": 812, "prompt": PROMPT, "score_min": 1, "score_max": 6,
              "traits": [{"name": "Organization", "min": 1, "max": 6}]}


def _examples(course, halves: bool) -> list[GradedExample]:
    """The course's essays with one neutral sentence each; with `halves`, every other 4 graded 3.5."""
    out = []
    for i, ex in enumerate(course):
        score = 3.5 if halves and ex.score == 4 and i % 2 else ex.score
        out.append(GradedExample(ex.text, score, {"Organization": score}, COMMENTS[score]))
    return out


def _teacher(fb) -> list[dict]:
    return [p["evidence"] for p in fb.parts if p["kind"] == "teacher"]


def test_a_35_draws_on_the_teachers_35s(course, held_out):
    fb = compose_feedback(held_out[0][0], 3.5, {}, ASSIGNMENT, _examples(course, halves=True), generator=False)
    said = _teacher(fb)
    assert said and all(e["tier"] == 0 and e["example_score"] == 3.5 for e in said), said


def test_without_35s_it_draws_on_3s_and_4s_alike(course):
    examples = _examples(course, halves=False)
    index = CourseIndex(examples, AssignmentView.of(ASSIGNMENT))
    for near in (3, 4):   # the most similar essay is a 3, then a 4: its sentence comes first
        sims = np.array([1.0 if e.score == near else 0.0 for e in examples])
        chosen = teacher_sentences(index, sims, index.level(3.5), {}, 1)
        assert [(c.score, tier) for _, c, tier in chosen] == [(near, 1)]
    sims = np.array([1.0 if e.score in (2, 5) else 0.0 for e in examples])   # nor 2s and 5s before them
    assert [c.score for _, c, _ in teacher_sentences(index, sims, index.level(3.5), {}, 1)] in ([3], [4])


def test_whole_points_keep_their_levels(course):
    index = CourseIndex(_examples(course, halves=False), AssignmentView.of(ASSIGNMENT))
    assert [index.level(s) for s in (1, 3, 4, 6)] == [0, 2, 3, 5]
    assert index.level(3.5) == 2.5
    chosen = teacher_sentences(index, np.zeros(len(index.examples)), index.level(4), {}, 3)
    assert {(c.score, tier) for _, c, tier in chosen} == {(4, 0)}


def test_the_next_step_up_from_35_is_the_next_score_the_teacher_gave(course):
    examples = _examples(course, halves=False)
    for i, ex in enumerate(examples):   # some 5s graded 4.5: within a point of 3.5 too
        if ex.score == 5 and i % 2:
            examples[i] = GradedExample(ex.text, 4.5, {"Organization": 4.5}, COMMENTS[5])
    index = CourseIndex(examples, AssignmentView.of(ASSIGNMENT))
    trait = ASSIGNMENT["traits"][0]
    sims = np.array([1.0 if e.score == 4.5 else 0.0 for e in examples])   # the 4.5s the most alike
    cand, score = next_step_sentence(index, sims, trait, 3.5, [])
    assert score == 4 and cand.text == COMMENTS[4]
    assert next_step_sentence(index, sims, trait, 4, [])[1] == 4.5   # from 4, the 4.5s
