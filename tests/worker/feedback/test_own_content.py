"""A teacher's sentence about what one student wrote ("your story about working at the taco truck",
"your soccer team") is never shown to another student: not as their own, and not as the next
step of a trait line, where it would come with that classmate's score.

Found in review: 'Cohesion: 3 of 5. On an essay scored 4 of 5 for Cohesion, the teacher wrote:
"Your cohesion is strong, and your conclusion ties back to your story about working at the taco
truck after school."', and "Vocabulary (4.5 of 5): Your vocabulary about your soccer team is
precise and lively." sent to essays about distance learning.
"""
from __future__ import annotations

import pytest

from worker.feedback.cache import course_index
from worker.feedback.compose import compose_feedback
from worker.feedback.own_content import names_content, reusable
from worker.feedback.records import AssignmentView, GradedExample

from .conftest import PROMPT, TRAITS, VOICE

COHESION = [{"name": "Cohesion", "min": 1, "max": 5}]
TACO = ("Your cohesion is strong, and your conclusion ties back to your story about working at the "
        "taco truck after school.")
GENERIC = "Your cohesion is strong because each paragraph links back to the claim."


def _index(course, traits=TRAITS):
    return course_index(course, AssignmentView.of({"id": 741, "prompt": PROMPT, "score_min": 1,
                                                    "score_max": 6, "traits": traits}), None)


@pytest.mark.parametrize("sentence", [
    TACO,
    "Your vocabulary about your soccer team is precise and lively.",
    "I loved the part about your trip to the lake with the youth group.",
    "Your description of your guitar lessons makes the reason concrete.",
    "Good details about the bakery where you volunteer.",
])
def test_a_sentence_about_one_students_content_is_known(course, sentence):
    assert names_content(_index(course), sentence)


@pytest.mark.parametrize("sentence", [
    *[s for band in VOICE.values() for s in band],     # the tests' teacher: all of it stays
    "Your counterclaim about aliens is handled fairly and then answered with facts.",
    "This is a convincing essay with good examples from your life.",
    "Your grammar is generally correct, but watch verb tenses when you tell your story.",
    "Your transitions guide the reader from one reason to the next.",
    "Group the sentences about the same idea together so the cohesion is stronger.",
    "Write more about how the shadows made the mesa look like a face.",
    "Your phraseology sounds natural and you use idioms correctly.",
    "Tighten your conclusion so it restates the claim in a fresh way.",
    # A real teacher's words about writing (a review found each of these dropped).
    "Your introduction about the author's point is clear.",
    "You wrote a strong paragraph about the author's point.",
    "Your counterargument is weak, so answer it with a fact.",
    "Think more about the counterargument before you answer it.",
    "Be careful about run-on sentences.",
    "Your reasoning is logical and easy to follow.",
    "Your main idea is clear.",
    "Your body paragraphs each need a topic sentence.",
    "Your opening sentence is strong.",
    "Your final sentence restates the claim.",
    "Your rebuttal is convincing.",
    "Your title is creative.",
    "Your work is improving.",
])
def test_a_sentence_about_writing_or_the_prompt_is_reused(course, sentence):
    assert not names_content(_index(course), sentence)


def test_on_its_own_essay_only_what_that_essay_names_is_its_content(course):
    """A rare word the commented essay never uses is about the writing, not a thing of that essay."""
    index = _index(course)
    remark = "Your anecdote about the lighthouse keeper is vivid."
    assert names_content(index, remark, essay_text="My uncle was a lighthouse keeper on the coast.")
    assert not names_content(index, remark, essay_text="The Face on Mars is a natural landform.")


def test_the_rule_keeps_every_sentence_of_a_course_whose_teacher_writes_about_writing(course):
    """A rule on how often a sentence recurs would drop almost all of a teacher who writes each
    comment afresh; this one drops none of the tests' teacher's sentences."""
    index = _index(course)
    assert reusable(index) == index.candidates and len(index.candidates) > 500


def _with(course, cohesion_comments) -> list[GradedExample]:
    """The course's essays with Cohesion 4 for scores 5-6 (else 2); among the 4s, the first
    essay carries the content-specific remark and the others `GENERIC`."""
    out, specific = [], True
    for ex in course:
        level = 4 if ex.score >= 5 else 2
        comment, text = "", ex.text
        if level == 4:
            if specific:   # a remark about the essay's own story: the essay tells it
                text += " I think of my job working at the taco truck after school."
            comment, specific = (TACO if specific else GENERIC), False
        out.append(GradedExample(text, ex.score, {"Cohesion": level}, comment))
    return out


def test_no_next_step_quotes_what_the_teacher_said_about_another_students_story(course, held_out):
    examples = _with(course, None)
    assignment = {"id": 742, "prompt": PROMPT, "score_min": 1, "score_max": 6, "traits": COHESION}
    quoted = 0
    for text, _ in held_out[:25]:
        fb = compose_feedback(text, 4, {"Cohesion": 3}, assignment, examples, generator=False)
        assert "taco truck" not in fb.text, fb.text
        [line] = [p for p in fb.parts if p["kind"] == "trait"]
        quoted += line["evidence"]["source"] == "next_step"
    assert quoted == 25        # the teacher's other sentence is still every essay's next step


def test_a_remark_about_one_students_content_is_not_said_of_another_essay(course, held_out):
    """Same score, ordinary path: the summary and the trait's own line."""
    examples = _with(course, None)
    assignment = {"id": 743, "prompt": PROMPT, "score_min": 1, "score_max": 6, "traits": COHESION}
    for text, _ in held_out[:25]:
        fb = compose_feedback(text, 5, {"Cohesion": 4}, assignment, examples, generator=False)
        assert "taco truck" not in fb.text, fb.text
