"""A teacher's sentence that makes an essay's errors small is not reused where they are not.

Found by a reviewer: a real Face-on-Mars essay was told "Conventions (2 of 4): A few spelling errors
remain, so check your conventions before you submit." beside "22 words look misspelled: narural,
incorect, evedince, ...", and an English learner's Grammar 1.5 of 5 (the lowest in the set) got "A
few grammar slips remain", written for an essay a level higher.
"""
from __future__ import annotations

import pytest

from worker.feedback.compose import compose_feedback
from worker.feedback.disproved import MANY_MISSPELLED, absent_faults, disproved, faults_claimed, minimises
from worker.feedback.records import GradedExample
from worker.feedback.textstats import measure

from .conftest import PROMPT, read_rows

A_FEW_SPELLING = "A few spelling errors remain, so check your conventions before you submit."
A_FEW_GRAMMAR = "A few grammar slips remain, so check your conventions before you submit."


@pytest.mark.parametrize("sentence, few", [
    (A_FEW_SPELLING, True),
    ("Your conventions are mostly clean, with only small slips.", True),
    ("Your conventions are nearly flawless, which keeps the reader focused on your ideas.", True),
    ("Only minor typos.", True),
    ("A few grammar and spelling errors remain.", True),
    ("Only a few errors remain in the second paragraph.", True),
    # errors of something no count here measures, and errors in general, are not this claim
    (A_FEW_GRAMMAR, False),
    ("Watch for small slips in punctuation near quotations.", False),
    ("Even small mistakes add up, so proofread slowly.", False),
    ("Many spelling and capitalization mistakes make this hard to read, so proofread slowly.", False),
    ("Add a little more evidence from the article.", False),
])
def test_which_sentences_say_the_spelling_errors_are_few(sentence, few):
    assert ("few_errors" in faults_claimed(sentence)) is few


def test_minimising_words_of_any_kind_of_error():
    assert minimises(A_FEW_GRAMMAR) and minimises(A_FEW_SPELLING)
    assert minimises("Your grammar is mostly correct.")
    assert not minimises("Even small mistakes add up, so proofread slowly.")
    assert not minimises("Proofread for conventions, especially spelling of words from the article.")


def test_six_listed_misspellings_are_not_a_few():
    text = "The face on mars is a landform and the photos show it."
    stats = measure(text)
    few = absent_faults(text, stats, ["narural", "incorect", "evedince", "fce", "landfor"])
    many = absent_faults(text, stats, ["narural", "incorect", "evedince", "fce", "landfor", "illoution"])
    assert MANY_MISSPELLED == 6
    assert not disproved(A_FEW_SPELLING, few)
    assert disproved(A_FEW_SPELLING, many)
    assert not disproved(A_FEW_GRAMMAR, many)      # says nothing of spelling


def test_the_reviewers_essay_is_not_told_a_few_beside_22_misspellings(shared_data, course, trait_assignment):
    essay = next(r["full_text"] for r in read_rows(shared_data, "validation") + read_rows(shared_data, "test")
                 if r["essay_id_comp"] == "B5E63DEF333A")
    fb = compose_feedback(essay, 3, {"evidence": 1, "organization": 1, "conventions": 2, "voice": 1},
                          trait_assignment, course, generator=False)
    spelling = next(p for p in fb.parts if p["kind"] == "spelling")
    assert spelling["evidence"]["count"] >= 20
    assert A_FEW_SPELLING not in fb.text and "only small slips" not in fb.text, fb.text


def _conventions_course(course, comment_at_3: str, name: str = "Conventions") -> list[GradedExample]:
    """The course's real essays, `name` = 3 for essays scored 4+ (they carry `comment_at_3`) and 2
    below (a comment that names no trait)."""
    return [GradedExample(ex.text, ex.score, {name: 3 if ex.score >= 4 else 2},
                          comment_at_3 if ex.score >= 4 else "Your argument needs more support.")
            for ex in course]


def _assignment(aid: int, name: str = "Conventions") -> dict:
    return {"id": aid, "prompt": PROMPT, "score_min": 1, "score_max": 6,
            "traits": [{"name": name, "min": 1, "max": 5}]}


def _line(fb) -> dict:
    [line] = [p for p in fb.parts if p["kind"] == "trait"]
    return line


def _misspelled_count(fb) -> int:
    return next((p["evidence"]["count"] for p in fb.parts if p["kind"] == "spelling"), 0)


def test_a_few_spelling_errors_reaches_an_essay_with_few_and_not_one_with_many(course, held_out):
    examples = _conventions_course(course, A_FEW_SPELLING)
    seen = {"few": 0, "many": 0}
    for text, _ in held_out[:60]:
        fb = compose_feedback(text, 4, {"Conventions": 3}, _assignment(711), examples, generator=False,
                              max_sentences=0)
        count = _misspelled_count(fb)
        if 1 <= count <= 3:
            assert _line(fb)["evidence"].get("sentence") == A_FEW_SPELLING, fb.text
            seen["few"] += 1
        elif count >= 8:
            assert A_FEW_SPELLING not in fb.text, fb.text
            # nobody scored 4 here: the score alone
            assert _line(fb)["text"] == "Conventions: 3 of 5.", fb.text
            seen["many"] += 1
    assert seen["few"] >= 3 and seen["many"] >= 3, seen


def test_a_lower_trait_score_is_not_told_a_stronger_essays_few_slips(course, held_out):
    # Grammar 3 essays were told "A few grammar slips remain": the same level still hears it, a
    # Grammar 2 (the course's lowest) does not, whatever its spelling.
    examples = _conventions_course(course, A_FEW_GRAMMAR, "Grammar")
    for text, _ in held_out[:5]:
        same = compose_feedback(text, 4, {"Grammar": 3}, _assignment(712, "Grammar"), examples,
                                generator=False, max_sentences=0)
        assert _line(same)["evidence"].get("sentence") == A_FEW_GRAMMAR, same.text
        lower = compose_feedback(text, 2, {"Grammar": 2}, _assignment(712, "Grammar"), examples,
                                 generator=False, max_sentences=0)
        # nor as its next step: a weak writer skimming "On an essay scored 3 of 5 ..." reads the
        # quoted "A few grammar slips remain" as said of them
        assert _line(lower)["text"] == "Grammar: 2 of 5.", _line(lower)["text"]
        assert A_FEW_GRAMMAR not in lower.text


def test_advice_from_a_stronger_essay_still_reaches_a_weaker_one(course, held_out):
    advice = "Proofread your grammar slowly, one sentence at a time."
    examples = _conventions_course(course, advice, "Grammar")
    for text, _ in held_out[:5]:
        fb = compose_feedback(text, 2, {"Grammar": 2}, _assignment(713, "Grammar"), examples,
                              generator=False, max_sentences=0)
        assert _line(fb)["evidence"].get("sentence") == advice, fb.text
