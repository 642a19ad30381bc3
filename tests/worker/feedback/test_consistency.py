"""Feedback must not contradict itself, and its counts must read as English."""
from __future__ import annotations

import re

from worker.feedback.compose import compose_feedback
from worker.feedback.retrieval import CourseIndex
from worker.feedback.points import paragraphs
from worker.feedback.records import AssignmentView
from worker.feedback.textstats import measure

PRAISE_OF_CONVENTIONS = re.compile(r"conventions are (nearly flawless|mostly clean)", re.I)


def _misspell(text: str, every: int = 12) -> str:
    out = []
    for i, w in enumerate(text.split(" ")):
        if i % every == 5 and len(w) > 4 and w.isalpha() and w.islower():
            w = w[0] + w[2] + w[1] + w[3:] + "q"
        out.append(w)
    return " ".join(out)


def test_no_praise_of_conventions_next_to_many_misspellings(course, held_out, assignment):
    checked = 0
    for text, score in held_out:
        if score < 5:
            continue
        fb = compose_feedback(_misspell(text), 6, None, assignment, course, generator=False)
        spelling = [p for p in fb.parts if p["kind"] == "spelling"]
        assert spelling and spelling[0]["evidence"]["count"] >= 5
        if spelling[0]["evidence"]["per_100_words"] < 1.5:
            continue
        checked += 1
        teacher = " ".join(p["text"] for p in fb.parts if p["kind"] == "teacher")
        assert not PRAISE_OF_CONVENTIONS.search(teacher), (teacher, spelling[0]["text"])
        assert teacher           # advice (or other praise) is still chosen
    assert checked >= 5


def _index(course):
    a = AssignmentView.of({"id": 31, "prompt": "Write about Mars.", "score_min": 1,
                           "score_max": 6, "traits": []})
    return CourseIndex(course[:60], a)


def test_paragraph_counts_agree_in_number(course):
    index = _index(course)
    level = index.level(3)
    higher, label = index.higher_than(level), index.step_label(level + 1)
    one = paragraphs(measure("The face is a mesa. " * 20), higher, label)
    assert one and "has 1 paragraph;" in one["text"]
    long_one = "The face is a landform and NASA photos show it clearly. " * 30
    two = paragraphs(measure("A short opening paragraph here.\n" + long_one), higher, label)
    assert two and re.search(r"\b1 of its 2 paragraphs is very long", two["text"]), two["text"]
    assert not re.search(r"\b1 (paragraphs|words)\b", one["text"] + two["text"])


def test_no_praise_of_conventions_on_the_trait_line_next_to_many_misspellings(course, held_out, trait_assignment):
    """The trait line quotes the teacher too, so the same rule holds there: a top conventions
    score predicted for an essay full of misspellings does not bring "nearly flawless"."""
    checked = 0
    for text, score in held_out:
        if score < 5:
            continue
        fb = compose_feedback(_misspell(text), 6, {"conventions": 4}, trait_assignment, course, generator=False)
        spelling = [p for p in fb.parts if p["kind"] == "spelling"]
        if not spelling or spelling[0]["evidence"]["per_100_words"] < 1.5:
            continue
        checked += 1
        [line] = [p for p in fb.parts if p["kind"] == "trait" and p["evidence"]["trait"] == "conventions"]
        assert not PRAISE_OF_CONVENTIONS.search(line["text"]), (line["text"], spelling[0]["text"])
    assert checked >= 5
