"""A weak speller's on-topic essay is not told it misses the prompt: a misspelt key term
("alieans", "ailens") counts as the term.

Found in review: two of the tests' own held-out Face-on-Mars essays, scored 1 and 2 and plainly
about the Face ("not alieans", "the planit", "there are ailens"), were told "This essay does not
seem to address the assignment's prompt." and given no teacher sentences: their similarity fell
in the unsure band and only "face" was spelt as the prompt spells it.
"""
from __future__ import annotations

import time

import pytest

from tests.hostile_texts import ESSAY_LIMIT, HOSTILE
from worker.feedback.compose import OFF_TOPIC_TEXT, compose_feedback
from worker.feedback.misspelt_terms import misspelt_terms
from worker.feedback.spelling import misspelled

from .conftest import read_rows

TERMS = ["face", "mars", "landform", "aliens", "natural", "nasa", "mesa", "created", "butte",
         "cydonia", "viking", "scientist"]


@pytest.mark.parametrize("essay_id", ["79905A2A335F", "EC36D0439D93"])
def test_a_weak_spellers_essay_about_the_face_is_not_off_topic(essay_id, course, assignment, shared_data):
    text = next(r["full_text"] for r in read_rows(shared_data, "test") if r["essay_id_comp"] == essay_id)
    fb = compose_feedback(text, 1, {}, assignment, course, generator=False)
    assert "off_topic" not in fb.kinds() and OFF_TOPIC_TEXT not in fb.text, fb.text
    assert "teacher" in fb.kinds()


def test_one_edit_or_two_for_a_long_term_and_never_an_english_word():
    assert misspelt_terms(["alieans", "Ailens", "landfrom", "sientist", "vikng", "natrual"], TERMS) == {
        "alieans": "aliens", "ailens": "aliens", "landfrom": "landform", "sientist": "scientist",
        "vikng": "viking", "natrual": "natural"}
    # two edits from a short term is another word; "fact", "race", "mass" are words, not misspellings
    assert misspelt_terms(["alian", "fcae"], TERMS) == {"fcae": "face"}
    assert misspelt_terms(misspelled("The fact is that mass and race matter."), TERMS) == {}


@pytest.mark.parametrize("essay", [*HOSTILE.values(), " ".join(f"q{i:x}zk" for i in range(ESSAY_LIMIT // 8))],
                         ids=[*HOSTILE.keys(), "thousands of different made-up words"])
def test_matching_a_hostile_essays_words_to_the_terms_ends_in_seconds(essay):
    started = time.monotonic()
    misspelt_terms(misspelled(essay), TERMS)
    assert time.monotonic() - started < 15   # linear: well under a second
