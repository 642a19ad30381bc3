"""Submissions that are not an essay's prose get a plain, true line (found by a reviewer): a
pasted link was told it had "1 word" and that "https" and "usp" were misspelled; digits only were
told that no text was received while a score was proposed; the same essay pasted 15 times was
only told its paragraphs are long."""
from __future__ import annotations

import re

from worker.feedback import compose
from worker.feedback.compose import compose_feedback

DOCS_LINK = "https://docs.google.com/document/d/1AbCdEfGhIjKlMnOpQrStUvWxYz/edit?usp=sharing"


def test_a_pasted_link_is_asked_for_the_essays_text(course, trait_assignment):
    for body in (DOCS_LINK, f"  {DOCS_LINK}\n", "docs.google.com/document/d/1AbCdEf/edit",
                 f"{DOCS_LINK}\n{DOCS_LINK}"):
        fb = compose_feedback(body, 1, {"evidence": 1}, trait_assignment, course, generator=False)
        assert fb.text == compose.LINK_ONLY_TEXT, fb.text
        assert [p["kind"] for p in fb.parts] == ["link_only"]


def test_numbers_or_symbols_only_are_not_told_nothing_was_received(course, trait_assignment):
    for body in ("1234 5678 " * 50, "2024-05-01 14:00", "... !!! ???", "123 %%% 456"):
        fb = compose_feedback(body, 5, {"evidence": 3}, trait_assignment, course, generator=False)
        assert fb.text == compose.NO_WORDS_TEXT, fb.text
        assert [p["kind"] for p in fb.parts] == ["no_words"]


def test_links_inside_an_essay_are_neither_misspellings_nor_missing_spaces(course, held_out,
                                                                           assignment):
    text, score = held_out[0]
    cited = f"{text}\n\nSource: {DOCS_LINK} and www.nasa.gov/mars/face.html?ref=cydonia"
    plain = {p["kind"]: p["evidence"] for p in
             compose_feedback(text, score, {}, assignment, course, max_points=6).parts}
    linked = {p["kind"]: p["evidence"] for p in
              compose_feedback(cited, score, {}, assignment, course, max_points=6).parts}
    assert linked.get("spelling", {}).get("words") == plain.get("spelling", {}).get("words")
    assert (linked.get("mechanics", {}).get("missing_spaces")
            == plain.get("mechanics", {}).get("missing_spaces"))
    shown = compose_feedback(cited, score, {}, assignment, course, max_points=6).text
    assert not re.search(r"\b(https|usp|html)\b", shown, re.I), shown


def test_an_essay_pasted_many_times_is_told_it_repeats_itself(course, held_out, assignment):
    text, _ = max(held_out[:40], key=lambda ts: len(ts[0]))
    fb = compose_feedback((text + "\n\n") * 15, 6, {}, assignment, course, generator=False)
    [rep] = [p for p in fb.parts if p["kind"] == "repetition"]
    assert rep["text"].startswith("The essay repeats the same passage"), rep["text"]
    assert rep["text"] in fb.text
    # pasted twice is already a repeat
    fb = compose_feedback(text + "\n\n" + text, 4, {}, assignment, course, generator=False)
    assert "repetition" in fb.kinds()


def test_real_essays_are_not_told_they_repeat_themselves(course, held_out, assignment):
    for text, score in held_out:
        fb = compose_feedback(text, score, {}, assignment, course, generator=False)
        assert "repetition" not in fb.kinds(), text[:200]
