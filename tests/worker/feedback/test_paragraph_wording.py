"""The long-paragraph point says where its number comes from.

Found in a teacher walkthrough: "1 of its 3 paragraphs runs over 253 words (it has 431 words)"
left students asking what 253 was: the longest paragraphs of the better-graded essays.
"""
from __future__ import annotations

import re

from .conftest import PROMPT
from .test_consistency import _index
from .test_reuse_guards import KNOWN, OTHER_ESSAY
from worker.feedback.comments import prompt_ngram_set, reusable_sentences
from worker.feedback.points import paragraphs
from worker.feedback.textstats import measure

LONG = "The face is a landform and NASA photos show it clearly. " * 30 + "\n"
SHORT = "A short opening paragraph here.\n"


def test_the_limit_is_said_as_what_the_better_essays_do(course):
    index = _index(course)
    level = index.level(3)
    higher, label = index.higher_than(level), index.step_label(level + 1)
    one = paragraphs(measure(SHORT + LONG), higher, label)["text"]
    limit = paragraphs(measure(SHORT + LONG), higher, label)["evidence"]["long_limit"]
    assert re.search(rf"\b1 of its 2 paragraphs is very long \(330 words\); (most|all) essays graded "
                     rf"{re.escape(label)} or higher have no paragraph longer than {limit} words\.", one), one
    two = paragraphs(measure(SHORT + LONG + LONG), higher, label)["text"]
    assert "2 of its 3 paragraphs are very long (the longest has 330 words); " in two, two
    assert "runs over" not in one + two


def test_without_better_essays_to_compare_the_fixed_limit_is_explained():
    text = paragraphs(measure(SHORT + LONG), [], "4")["text"]
    assert text == ("1 of its 2 paragraphs is very long (330 words; a paragraph of over 200 words "
                    "is hard to follow)."), text


def test_the_new_wording_is_never_reused_as_a_teacher_sentence(course):
    index = _index(course)
    level = index.level(3)
    higher, label = index.higher_than(level), index.step_label(level + 1)
    lines = [paragraphs(measure(SHORT + LONG + body), h, label)["text"]
             for body in ("", LONG) for h in (higher, [])]
    assert reusable_sentences("\n".join(lines), OTHER_ESSAY, KNOWN, prompt_ngram_set(PROMPT)) == []
