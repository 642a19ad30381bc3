"""An essay written as 1 or 2 enormous sentences is told to split them, is not told to combine
short ones, and, at the assignment's usual length, keeps the teacher's praise of its content.

Found in review: ELLIPSE 38F68FC5317C (an English learner, Overall 3.0, 506 words in 2 sentences
joined by commas) was told "The essay has only 2 sentences (506 words)." ("only" reads as "write
more") and, as its own Syntax line, "... try combining short sentences with because or although.",
the opposite of what it needs; the run-on point ("try splitting it") needs 3 sentences. As an
issue of the whole essay it could not be praised for anything. ELLIPSE 8EB647435835 (one sentence
of 544 words) was told the same.
"""
from __future__ import annotations

import csv

import pytest

from worker.feedback.cache import course_index
from worker.feedback.compose import compose_feedback
from worker.feedback.disproved import absent_faults, disproved, faults_claimed
from worker.feedback.points import essay_issues, measured_points
from worker.feedback.records import AssignmentView, GradedExample
from worker.feedback.textstats import measure

COMBINE = "Your syntax is mostly correct, but try combining short sentences with because or although."
VARIED = "Your syntax is varied and you use complex sentences well."
CONTENT = "Your opinion is clear and you give reasons with examples."
PUNCTUATION = "Your punctuation is clean and correct."
SYNTAX = [{"name": "Syntax", "min": 1, "max": 5}]


@pytest.fixture(scope="module")
def ellipse(shared_data) -> list[dict]:
    with open(shared_data / "ellipse" / "ellipse.csv", newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _essay(rows, eid: str) -> dict:
    return next(r for r in rows if r["essay_id"] == eid)


def _course(rows, comment) -> list[GradedExample]:
    """The distance-learning prompt's training essays, graded by a teacher who writes `comment(row)`."""
    return [GradedExample(r["full_text"], float(r["Overall"]), {"Syntax": float(r["Syntax"])}, comment(r))
            for r in rows if r["prompt"] == "Distance learning" and r["split"] == "train"]


def _feedback(rows, eid: str, comment, traits=()):
    r = _essay(rows, eid)
    a = {"id": 7201, "prompt": r["prompt"], "score_min": 1, "score_max": 5, "traits": list(traits)}
    scores = {"Syntax": float(r["Syntax"])} if traits else {}
    return compose_feedback(r["full_text"], float(r["Overall"]), scores, a, _course(rows, comment),
                            generator=False)


def _length(fb) -> dict:
    [part] = [p for p in fb.parts if p["kind"] == "length"]
    return part


@pytest.mark.parametrize("eid, said", [
    ("38F68FC5317C", "The essay is written as 2 sentences of 506 words in all: split it into sentences "
                     "that each make one point and end with a full stop."),
    ("8EB647435835", "The essay is written as a single sentence of 544 words: split it into sentences "
                     "that each make one point and end with a full stop."),
])
def test_enormous_sentences_are_told_to_split_and_never_to_combine(ellipse, eid, said):
    fb = _feedback(ellipse, eid, lambda r: COMBINE if 2.5 <= float(r["Syntax"]) <= 3 else "", SYNTAX)
    assert _length(fb)["text"] == said, fb.text
    assert "combining short sentences" not in fb.text, fb.text


def test_nor_praised_for_sentence_variety(ellipse):
    fb = _feedback(ellipse, "8EB647435835", lambda r: VARIED if float(r["Syntax"]) >= 3 else "", SYNTAX)
    assert VARIED not in fb.text, fb.text


def test_at_the_usual_length_its_content_may_be_praised_but_not_its_punctuation(ellipse):
    """506 words, more than half of the prompt's graded essays: a sentence-boundary problem, not a
    stub. Praise of its reasons reaches it; praise of its sentences or punctuation does not."""
    fb = _feedback(ellipse, "38F68FC5317C", lambda r: f"{CONTENT} {PUNCTUATION}" if float(r["Overall"]) == 3 else "")
    assert _length(fb)["evidence"]["issue"] == "sentences"
    assert CONTENT in fb.text, fb.text
    assert PUNCTUATION not in fb.text, fb.text


def test_shorter_than_half_the_graded_essays_it_is_still_a_stub(ellipse):
    """ELLIPSE 47A1277A181F (2 sentences, 192 words) handed in for the distance-learning prompt,
    whose graded essays have about 400 words: an issue of the whole essay, praised for nothing."""
    r = _essay(ellipse, "47A1277A181F")
    assert measure(r["full_text"]).n_sentences == 2
    a = {"id": 7202, "prompt": "Distance learning", "score_min": 1, "score_max": 5, "traits": []}
    course = _course(ellipse, lambda r: CONTENT if float(r["Overall"]) >= 3 else "")
    fb = compose_feedback(r["full_text"], 3, {}, a, course, generator=False)
    assert _length(fb)["evidence"]["issue"] == "whole_essay"
    assert CONTENT not in fb.text, fb.text


def test_punctuation_is_an_issue_of_the_long_few_sentence_essay(ellipse):
    r = _essay(ellipse, "38F68FC5317C")
    a = {"id": 7203, "prompt": r["prompt"], "score_min": 1, "score_max": 5, "traits": []}
    index = course_index(_course(ellipse, lambda r: ""), AssignmentView.of(a))
    text, stats = r["full_text"], measure(r["full_text"])
    issues = essay_issues(measured_points(text, stats, index, 3), text, stats, index)
    assert issues["sentences"] == issues["conventions"] == 1.0
    assert "whole_essay" not in issues


# ---------------------------------------------------------------- disproved: narrow, both ways
@pytest.mark.parametrize("sentence, claims", [
    (COMBINE, {"choppy"}),
    ("Your sentences are choppy.", {"choppy"}),
    ("Avoid short, choppy sentences.", {"choppy"}),
    ("Your sentences are too short.", {"choppy"}),
    ("Join your short sentences with and or but.", {"choppy"}),
    ("Too many short sentences make it read like a list.", {"choppy"}),
    (VARIED, {"varied_sentences"}),
    ("Your syntax is sophisticated and controlled.", {"varied_sentences"}),
    ("Good sentence variety.", {"varied_sentences"}),
    # praise of the opposite, asking for variety, or about long sentences: no claim
    ("Your writing has no choppy sentences.", set()),
    ("Your sentences are not choppy at all.", set()),
    ("Your sentences flow without being choppy.", set()),
    ("Use a mix of long and short sentences.", set()),
    ("Try splitting long sentences.", set()),
    ("Try to write more varied sentences.", set()),
    ("Your sentences need more variety.", set()),
    ("Combine ideas into complex sentences.", set()),
])
def test_which_sentences_speak_of_short_or_varied_sentences(sentence, claims):
    assert faults_claimed(sentence) & {"choppy", "varied_sentences"} == claims


def _absent(text: str) -> dict:
    return absent_faults(text, measure(text), [])


def test_long_sentences_disprove_choppy_and_few_sentences_disprove_variety(ellipse):
    two = _absent(_essay(ellipse, "38F68FC5317C")["full_text"])
    assert disproved(COMBINE, two) and disproved(VARIED, two)
    # long on average, 3 sentences or more: "combine short sentences" is false, variety may be true
    long_ones = _absent("The Face on Mars is a mesa that was shaped by wind and water over millions of "
                        "years, as the photos from the Mars Global Surveyor show. " * 3)
    assert disproved(COMBINE, long_ones) and not disproved(VARIED, long_ones)


@pytest.mark.parametrize("text", [
    # choppy: 5+ sentences under 8 words
    "The Face is a hill. It is rock. It is not alien. NASA said so. I agree.",
    # long on average, but with short sentences among them, which combining could fix
    ("The Face on Mars is a mesa that was shaped by wind and water over millions of years, as the "
     "photos from the Mars Global Surveyor show very clearly. It is rock. It is old. It is a hill."),
])
def test_an_essay_with_short_sentences_keeps_the_advice(text):
    assert not disproved(COMBINE, _absent(text))
