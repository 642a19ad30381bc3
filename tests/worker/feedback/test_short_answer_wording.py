"""In an assignment that asks for short answers (`points._short_answers`), the lines Gradeloop
writes call the student's work and the graded ones "answers": "The essay has only 3 words; about
half of the graded essays ..." told a student asked for one or two sentences that an essay was
expected. Essay courses keep "essay". The new wordings are recognised as Gradeloop's own lines
(`comments._MACHINE`), so an approved comment carrying them never comes back as a teacher's.
"""
from __future__ import annotations

import pytest

from worker.feedback.comments import reusable_sentences
from worker.feedback.compose import compose_feedback

from .test_short_answer_stub import ASSIGNMENT, _course

# Gradeloop's lines only: the teacher's sentences and the trait lines (`traits`) are not these.
OURS = ("length", "paragraphs", "spelling", "mechanics", "sentences", "evidence", "repetition", "off_topic")
LONG_ONE_PARAGRAPH = (
    "The Face on Mars is a natural landform and not something that aliens built, because the "
    "first photo from the Viking spacecraft in 1976 was blurry and the shadows on the rock made "
    "it look like eyes, a nose and a mouth, while the later photos from Mars Global Surveyor in "
    "1998 and 2001 had much better resolution and showed that it was only a mesa or a butte with "
    "no eyes or mouth at all, just like the landforms in the American West such as the ones in "
    "Idaho and the Snake River Plain, so scientists agree that erosion and wind shaped the rock "
    "over a very long time and that the face was only an illusion made by light and shadow on a "
    "hill, which is also why people see faces in clouds and in other natural things on Earth.")
ANSWERS = [
    ("It is natural.", 1),                                                     # a stub
    ("It is natural because the newer photo was clear and showed a hill.", 2),   # shorter than those graded 3
    ("THE 2001 PHOTO WAS CLEARER AND SHOWED A MESA, SO THE FACE WAS JUST SHADOWS ON A HILL.", 2),
    ("asdf jkl qwer uiop zxcv " * 6, 2),                                       # off the prompt
]


def _ours(fb) -> list[str]:
    return [p["text"] for p in fb.parts if p["kind"] in OURS]


def test_a_stub_answer_is_called_an_answer():
    fb = compose_feedback("It is natural.", 1, {"reasoning": 1}, ASSIGNMENT, _course(), generator=False)
    told = next(p["text"] for p in fb.parts if p["kind"] == "length")
    assert told.startswith("The answer has only 3 words; about half of the graded answers for this "
                           "assignment have more than "), told


def test_a_short_answer_is_compared_with_answers():
    fb = compose_feedback(ANSWERS[1][0], 2, {"reasoning": 2}, ASSIGNMENT, _course(), generator=False)
    told = next(p["text"] for p in fb.parts if p["kind"] == "length")
    assert told.startswith("This answer has 13 words; answers graded 3 or higher for this assignment "
                           "usually have "), told


@pytest.mark.parametrize("answer, score", ANSWERS)
def test_no_line_of_gradeloop_calls_a_short_answer_an_essay(answer, score):
    fb = compose_feedback(answer, score, {"reasoning": score}, ASSIGNMENT, _course(), generator=False)
    said = _ours(fb)
    assert said and not [s for s in said if "essay" in s.lower()], said


def test_an_answer_typed_in_capitals_is_told_so_as_an_answer():
    fb = compose_feedback(ANSWERS[2][0], 2, {"reasoning": 2}, ASSIGNMENT, _course(), generator=False)
    assert any("most of the answer is typed in capital letters" in s for s in _ours(fb)), fb.text


def test_one_paragraph_is_no_fault_where_the_better_answers_are_one_paragraph():
    """It read "The answer is a single paragraph of 147 words; answers graded 3 or higher here
    usually have 1 paragraph."."""
    fb = compose_feedback(LONG_ONE_PARAGRAPH, 3, {"reasoning": 3}, ASSIGNMENT, _course(), generator=False)
    assert "single paragraph" not in fb.text, fb.text


def test_an_off_topic_answer_is_called_an_answer():
    fb = compose_feedback(ANSWERS[3][0], 2, {"reasoning": 2}, ASSIGNMENT, _course(), generator=False)
    assert fb.kinds()[0] == "off_topic", fb.text
    assert fb.text.startswith("This answer does not seem to address the assignment's prompt."), fb.text


def test_an_essay_course_still_says_essay():
    fb = compose_feedback("It is natural.", 1, {"reasoning": 1}, ASSIGNMENT, _course(times=12), generator=False)
    told = next(p["text"] for p in fb.parts if p["kind"] == "length")
    assert told.startswith("The essay has only 3 words; about half of the graded essays "), told


@pytest.mark.parametrize("answer, score", ANSWERS)
def test_the_answer_wordings_are_never_reused_as_a_teachers_sentences(answer, score):
    fb = compose_feedback(answer, score, {"reasoning": score}, ASSIGNMENT, _course(), generator=False)
    said = [s for s in _ours(fb) if len(s.split()) >= 4]
    assert said
    assert reusable_sentences("\n".join(said), "", frozenset(w.lower() for s in said for w in s.split())) == []


@pytest.mark.parametrize("line", [
    "The answer has only 3 words; about half of the graded answers for this assignment have more than 15 words.",
    "This answer has 13 words; answers graded 3 or higher for this assignment usually have 18–24 words.",
    "The answer does not quote the article; most answers graded 3 or higher quote it at least once.",
    "The answer repeats the same passage: 3 of its 6 sentences are word-for-word copies of earlier ones.",
    "This answer does not seem to address the assignment's prompt.",
])
def test_each_answer_wording_is_known_as_gradeloops_own(line):
    """As an LMS gradebook or a CSV import may bring them back, word for word."""
    assert reusable_sentences(line, "", frozenset(w.lower().strip(".;:") for w in line.split())) == []
