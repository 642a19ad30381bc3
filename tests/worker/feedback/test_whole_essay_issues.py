"""An issue of the whole essay (one passage pasted again and again, a stub) rules out the teacher's
praise of every aspect, and the top score band's sentences, in the summary and in trait lines.

An essay of one passage pasted ~50 times got "An excellent, insightful argument." followed by
"The essay repeats the same passage: 531 of its 540 sentences are word-for-word copies".
"""
from __future__ import annotations

from worker.feedback.compose import compose_feedback
from worker.feedback.select import _praise

from .conftest import TRAITS, VOICE

TOP_PRAISE = "An excellent, insightful argument."


def _with_top_praise(course):
    return [ex._replace(comment=f"{TOP_PRAISE} {ex.comment}") if ex.score == 6 else ex
            for ex in course]


def _top_band(text: str) -> bool:
    return text == TOP_PRAISE or text in VOICE[6]


def test_a_pasted_passage_gets_no_praise(course, assignment):
    examples = _with_top_praise(course)
    passage = next(ex.text for ex in course if ex.score == 6)
    paragraph = " ".join(passage.split("\n\n")[:2])
    pasted = "\n\n".join([paragraph] * 50)
    for score in (6, 5):
        fb = compose_feedback(pasted, score, {"evidence": 4, "organization": 4, "conventions": 4},
                              {**assignment, "id": 911, "traits": TRAITS}, examples, generator=False)
        assert "repetition" in fb.kinds(), fb.text
        quoted = [p["text"] for p in fb.parts if p["kind"] == "teacher"]
        quoted += [p["evidence"]["sentence"] for p in fb.parts
                   if p["kind"] == "trait" and p["evidence"]["source"] == "teacher_comment"]
        assert TOP_PRAISE not in fb.text
        assert not [s for s in quoted if _praise(s) or _top_band(s)], fb.text


def test_the_same_passage_written_once_still_gets_the_teachers_words(course, assignment):
    """The guard is the repetition, not the essay: written once, it gets the top band's voice."""
    examples = _with_top_praise(course)
    passage = next(ex.text for ex in course if ex.score == 6)
    fb = compose_feedback(passage, 6, {}, {**assignment, "id": 912}, examples, generator=False)
    assert "repetition" not in fb.kinds()
    assert any(_top_band(p["text"]) for p in fb.parts if p["kind"] == "teacher"), fb.text


def test_a_stub_gets_no_praise_in_its_trait_lines(course, trait_assignment):
    stub = "The Face on Mars is just a natural landform, a mesa or butte, as NASA photos of Cydonia show."
    fb = compose_feedback(stub, 6, {"evidence": 4, "organization": 4, "conventions": 4, "voice": 4},
                          trait_assignment, course, generator=False)
    assert fb.parts[0]["evidence"].get("too_short"), fb.text
    lines = [p["evidence"]["sentence"] for p in fb.parts
             if p["kind"] == "trait" and p["evidence"]["source"] == "teacher_comment"]
    assert not [s for s in lines if _praise(s)], fb.text


def test_unreadable_and_off_topic_hand_ins_get_no_teacher_sentences(course, assignment):
    for text in ("", "https://docs.google.com/document/d/abc/edit?usp=sharing",
                 "asdf jkl qwer uiop zxcv asdf jkl qwer uiop zxcv " * 6):
        fb = compose_feedback(text, 6, {}, assignment, course, generator=False)
        assert "teacher" not in fb.kinds() and TOP_PRAISE not in fb.text, fb.text
