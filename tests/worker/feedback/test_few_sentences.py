"""An essay of one or two sentences is a stub, however many words: an issue of the whole essay.

Found in review: a real essay's single sentence of 27-104 words, predicted 6, was told "The
organization of your essay is purposeful, from the hook to the conclusion." and, from the band
below, "Your counterclaim about aliens is handled fairly and then answered with facts." It now
gets no praise, nothing from the top band or from a weaker essay, and a point that says what it is;
advice at its own level still reaches it.
"""
from __future__ import annotations

from worker.feedback.compose import compose_feedback
from worker.feedback.points import MIN_SENTENCES
from worker.feedback.select import _praise
from worker.feedback.textstats import measure, split_sentences, words

from .conftest import TRAITS, VOICE

TOP = {t["name"]: 4 for t in TRAITS}


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
        assert length["text"] == f"The essay is a single sentence of {len(sentence.split())} words.", fb.text
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
    two = " ".join(_one_sentence_essays(held_out, 2))
    fb = compose_feedback(two, 6, {}, assignment, course, generator=False)
    [length] = [p for p in fb.parts if p["kind"] == "length"]
    assert length["text"] == f"The essay has only 2 sentences ({len(two.split())} words).", fb.text
    assert "teacher" not in fb.kinds()


def test_every_real_essay_scored_4_or_more_has_enough_sentences(held_out):
    assert MIN_SENTENCES == 3
    assert all(measure(text).n_sentences >= MIN_SENTENCES for text, score in held_out if score >= 4)
