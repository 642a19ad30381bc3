"""Measured points in words a 12-year-old reads: no medians, no "62%", no "Mechanics", and a long
sentence pointed at by its first words rather than by its length alone."""
from __future__ import annotations

import re
from types import SimpleNamespace

import pytest

from worker.feedback.cache import course_index
from worker.feedback.comments import reusable_sentences
from worker.feedback.compose import compose_feedback
from worker.feedback.points import evidence, length, mechanics, sentences
from worker.feedback.records import AssignmentView
from worker.feedback.retrieval import ExampleCounts
from worker.feedback.textstats import measure

PROMPT = "Read the article about the Face on Mars and write an essay."


def _higher(quoting: int, of: int = 10) -> list[ExampleCounts]:
    return [ExampleCounts(5, 400, 5, 100, int(i < quoting), 0, 15.0) for i in range(of)]


def _index():
    return SimpleNamespace(assignment=SimpleNamespace(text_dependent=True, prompt=PROMPT),
                           key_terms=[], term_forms={})


@pytest.mark.parametrize("quoting, said", [
    (10, "all essays graded 5 or higher quote it at least once"),
    (8, "most essays graded 5 or higher quote it at least once"),
    (6, "more than half of the essays graded 5 or higher quote it at least once"),
    (5, "half of the essays graded 5 or higher quote it at least once"),
    (4, "about 4 in 10 essays graded 5 or higher quote it at least once"),
])
def test_the_share_that_quotes_is_said_in_words(quoting, said):
    text = evidence(measure("The face is a hill. It is not aliens."), _index(), _higher(quoting), "5")["text"]
    assert text == f"The essay does not quote the article; {said}.", text
    assert "%" not in text


def test_a_stub_is_told_the_usual_length_without_a_median():
    course = [ExampleCounts(4, n, 5, 100, 1, 5, 15.0) for n in (200, 300, 317, 400, 500)]
    said = length(measure("The face is a mesa."), [], "5", course)["text"]
    assert said == ("The essay has only 5 words; about half of the graded essays for this "
                    "assignment have more than 317 words."), said


def test_the_length_line_states_the_usual_length_not_a_ranking():
    """"..., and all of them are longer than this essay." / "97% of them" told the weakest writers
    what the trait lines no longer tell them, that every better essay beat theirs. The standard
    describes the work; the ranking does not."""
    higher = [ExampleCounts(5, n, 5, 100, 1, 5, 15.0) for n in (400, 420, 450, 480, 500)]
    said = length(measure(" ".join(["Five words go right here."] * 30)), higher, "5")["text"]
    assert said == ("This essay has 150 words; essays graded 5 or higher for this assignment "
                    "usually have 420–480 words."), said
    assert "longer than" not in said and "of them" not in said


@pytest.mark.parametrize("text, heading", [
    ("i think it is a hill. It is rock.", "Capital letters: "),
    ("We went to to the park.", "Typos: "),
    ("i went to to the park.", "Capital letters and typos: "),
])
def test_the_mechanics_point_is_named_by_what_it_lists(text, heading):
    said = mechanics(measure(text))["text"]
    assert said.startswith(heading) and "Mechanics" not in said, said


LONG = ("When the Viking 1 spacecraft was circling the planet it took many pictures of the "
        "surface and one of them showed a shape that looked like a human face with eyes and a "
        "nose and a mouth so people thought aliens made it.")
SHORT = ["The face is a mesa.", "It is made of rock.", "NASA took new photos of it."]


def test_a_run_on_is_pointed_at_by_its_first_words():
    text = " ".join([SHORT[0], LONG, *SHORT[1:]])
    said = sentences(measure(text), text)["text"]
    assert said == (f'Sentences: the sentence starting "When the Viking 1 spacecraft was\u2026" has '
                    f"{len(re.findall(r'[A-Za-z]+', LONG))} words; try splitting it."), said
    second = "Some people still believe " + LONG[0].lower() + LONG[1:]
    text = " ".join([SHORT[0], LONG, second, *SHORT[1:]])
    said = sentences(measure(text), text)["text"]
    assert said.startswith('Sentences: 2 sentences have more than 40 words: the ones starting '
                           '"When the Viking 1 spacecraft was\u2026" ('), said
    assert '"Some people still believe when the\u2026"' in said and said.endswith("try splitting them.")


def test_the_new_wordings_are_never_reused_as_teacher_sentences(course, assignment):
    text = " ".join([SHORT[0], LONG, *SHORT[1:]]) + " i think it is a hill. We went to to the park."
    fb = compose_feedback(text, 2, {}, assignment, course, generator=False, max_points=7)
    composed = "\n".join(p["text"] for p in fb.parts if p["kind"] != "teacher")
    assert {"sentences", "mechanics", "length"} <= set(fb.kinds()), fb.text
    assert reusable_sentences(composed, "", frozenset(w.lower() for w in re.findall(r"\w+", composed))) == []


def test_key_terms_are_written_one_way_in_the_whole_point(course, held_out, assignment):
    """"Not used: Face" beside "key terms (face)": both lists use the course's written form."""
    index = course_index(course, AssignmentView.of(assignment), None)
    seen = 0
    for text, score in held_out[:40]:
        fb = compose_feedback(text, score, {}, assignment, course, generator=False)
        point = next((p["text"] for p in fb.parts if p["kind"] == "evidence"), "")
        m = re.search(r"key terms \(([^)]*)\).*Not used: (.*)\.$", point)
        if not m:
            continue
        for term in m.group(1).split(", ") + m.group(2).split(", "):
            assert term == index.term_forms[term.lower()], point
        seen += 1
    assert seen >= 5


def test_a_share_of_none_or_a_few_is_not_called_one_in_ten():
    from worker.feedback.points import share_words

    assert share_words(0.0, "essays") == "none of the essays"
    assert share_words(0.03, "essays") == "fewer than 1 in 10 essays"
    assert share_words(0.4, "essays") == "about 4 in 10 essays"
    assert share_words(1.0, "essays") == "all essays"
