"""An essay of one or two sentences shorter than half of the graded essays is a stub: an issue of
the whole essay (one of the usual length: `test_few_long_sentences.py`).

Found in review: a real essay's single sentence of 27-104 words, predicted 6, was told "The
organization of your essay is purposeful, from the hook to the conclusion." and, from the band
below, "Your counterclaim about aliens is handled fairly and then answered with facts." It now
gets no praise, nothing from the top band or from a weaker essay, and a point that says what it is
(and to split it, when its sentences run over 40 words); advice at its own level still reaches it.
"""
from __future__ import annotations

from worker.feedback.compose import compose_feedback
from worker.feedback.points import MIN_SENTENCES, RUN_ON
from worker.feedback.select import _praise
from worker.feedback.textstats import measure, split_sentences, words

from .conftest import TRAITS, VOICE

TOP = {t["name"]: 4 for t in TRAITS}
SPLIT = ": split it into sentences that each make one point and end with a full stop."


def _said(*sentences: str) -> str:
    """The few-sentence line: counted when the sentences are short, told to split when long."""
    n, k = sum(len(s.split()) for s in sentences), len(sentences)
    if n / k > RUN_ON:
        return (f"The essay is written as a single sentence of {n} words" if k == 1
                else f"The essay is written as {k} sentences of {n} words in all") + SPLIT
    return f"The essay is a single sentence of {n} words." if k == 1 else f"The essay has only {k} sentences ({n} words)."


def _one_sentence_essays(held_out, n: int = 4) -> list[str]:
    """The longest sentence of real held-out essays, 25 words or more (under 25 is a stub already)."""
    found = []
    for text, _ in held_out:
        longest = max(split_sentences(text), key=lambda s: len(words(s)))
        if len(longest.split()) >= 30:
            found.append(longest)
        if len(found) == n:
            return found
    raise AssertionError("too few long sentences")


def _quoted(fb) -> list[dict]:
    """Every teacher sentence the feedback gives as this essay's own, with its essay's score."""
    return ([p for p in fb.parts if p["kind"] == "teacher"]
            + [p for p in fb.parts if p["kind"] == "trait" and p["evidence"]["source"] == "teacher_comment"])


def test_a_single_sentence_predicted_6_gets_no_praise(course, held_out, trait_assignment):
    for sentence in _one_sentence_essays(held_out):
        fb = compose_feedback(sentence, 6, TOP, trait_assignment, course, generator=False)
        [length] = [p for p in fb.parts if p["kind"] == "length"]
        assert length["text"] == _said(sentence), fb.text
        assert length["evidence"]["issue"] == "whole_essay"
        assert not _quoted(fb), fb.text
        assert not any(s in fb.text for s in VOICE[6] + VOICE[5]), fb.text


def test_advice_at_its_own_level_still_reaches_it(course, held_out, trait_assignment):
    advised = 0
    predicted = {"evidence": 2, "organization": 2}
    for sentence in _one_sentence_essays(held_out):
        fb = compose_feedback(sentence, 3, predicted, trait_assignment, course, generator=False)
        for part in _quoted(fb):
            ev = part["evidence"]
            assert not _praise(ev.get("sentence", part["text"])), fb.text
            # nothing from a weaker essay: there it could only be praise (`select.wrong_side`)
            if part["kind"] == "teacher":
                assert ev["example_score"] >= 3, fb.text
            else:
                assert course[ev["example"]].trait_scores[ev["trait"]] >= predicted[ev["trait"]], fb.text
            advised += 1
    assert advised >= 4


def test_two_sentences_too(course, held_out, assignment):
    sentences = _one_sentence_essays(held_out, 2)
    fb = compose_feedback(" ".join(sentences), 6, {}, assignment, course, generator=False)
    [length] = [p for p in fb.parts if p["kind"] == "length"]
    assert length["text"] == _said(*sentences), fb.text
    assert length["evidence"]["issue"] == "whole_essay"
    assert "teacher" not in fb.kinds()


def test_every_real_essay_scored_4_or_more_has_enough_sentences(held_out):
    assert MIN_SENTENCES == 3
    assert all(measure(text).n_sentences >= MIN_SENTENCES for text, score in held_out if score >= 4)
