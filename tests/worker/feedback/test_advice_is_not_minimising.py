"""Advice to proofread is not a claim that the errors are few ("Check for small errors before you
submit." is what an essay with many misspellings needs, and advice from a stronger essay still
reaches a weaker one, docs/feedback.md); a sentence that does say so is refused both ways; a prefix
left hanging before another word's ("pre- and post-tests") is no misspelling."""
from __future__ import annotations

import pytest

from worker.feedback.disproved import ABSENT, disproved, minimises
from worker.feedback.select import wrong_side
from worker.feedback.spelling import misspelled

MANY = {ABSENT + "few_errors": 1.0}   # what absent_faults gives an essay with 6+ misspelled words

ADVICE = ["Check for small errors before you submit.", "Proofread carefully to catch small mistakes.",
          "Reread to fix little mistakes.", "Make small changes to fix mistakes."]


@pytest.mark.parametrize("advice", ADVICE)
def test_advice_to_proofread_is_not_refused_beside_many_misspellings(advice):
    """The advice is what such an essay needs; it does not say its errors are few."""
    assert not disproved(advice, MANY)


@pytest.mark.parametrize("advice", ADVICE)
def test_advice_from_a_stronger_essay_still_reaches_a_lower_score(advice):
    """docs/feedback.md: 'advice from above ("Proofread your grammar slowly") still reaches it'."""
    assert not wrong_side(advice, source_level=4, target=3)


def test_minimises_is_at_least_as_wide_as_few_errors():
    """disproved.py: '`minimises` is the wider test'. This sentence is refused beside 6+
    misspellings as making errors few, yet passes from a stronger essay to a weaker one."""
    s = "Only minor issues with spelling."
    assert disproved(s, MANY)
    assert minimises(s)


def test_a_suspended_prefix_is_not_flagged():
    """docs/feedback.md: 'a prefix before a hyphen is not checked on its own'."""
    assert misspelled("Students took the pre- and post-tests in May.") == []


@pytest.mark.parametrize("praise", ["Keep up the good work; only a few small spelling errors.",
                                    "Be proud: there are only a few minor typos.",
                                    "Take a bow, only a couple of small mistakes.",
                                    "Read it aloud once more; only a few small errors remain."])
def test_praise_that_opens_on_a_verb_still_makes_errors_few(praise):
    """Advice is recognised by verbs of looking for errors, not by any imperative."""
    assert disproved(praise, MANY)
    assert wrong_side(praise, source_level=4, target=3)
