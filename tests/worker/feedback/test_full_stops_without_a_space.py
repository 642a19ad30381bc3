"""A full stop typed with the space before it, or with none ("c average .If you", "his test .I
thing", "OLDER PERSONS.I THINK"), still ends a sentence.

Found in review: the splitter ended sentences only at a mark followed by whitespace, so PERSUADE
0CE2B34B05CB (score 2, about 11 sentences so typed) was told "The essay has only 2 sentences (221
words)." and ELLIPSE 1B2B4A98C5E6 (an English learner, 3 sentences) "only 2 sentences (75
words)". The habit is common among English learners and weak typists, the writers the
few-sentence point is about. Initials, "U.S.A", titles and decimals stay whole, and the splitter,
which every check reads, stays linear on hostile text.
"""
from __future__ import annotations

import csv
import time

import pytest

from tests.hostile_texts import ESSAY_LIMIT
from worker.feedback.compose import compose_feedback
from worker.feedback.points import mechanics
from worker.feedback.textstats import measure, split_sentences


def _persuade(shared_data, eid: str) -> tuple[str, str]:
    for path in sorted((shared_data / "persuade").glob("*/*.csv")):
        with open(path, newline="", encoding="utf-8") as fh:
            for r in csv.DictReader(fh):
                if r["essay_id_comp"] == eid:
                    return r["full_text"], r["prompt_name"]
    raise LookupError(eid)


def _ellipse(shared_data, eid: str) -> dict:
    with open(shared_data / "ellipse" / "ellipse.csv", newline="", encoding="utf-8") as fh:
        return next(r for r in csv.DictReader(fh) if r["essay_id"] == eid)


def _length_lines(fb) -> list[str]:
    return [p["text"] for p in fb.parts if p["kind"] == "length"]


def test_a_persuade_essay_of_stops_typed_before_the_space_is_not_two_sentences(shared_data):
    text, prompt = _persuade(shared_data, "0CE2B34B05CB")
    assert " .If you make it" in text
    assert measure(text).n_sentences >= 10
    a = {"id": 7101, "prompt": prompt, "score_min": 1, "score_max": 6, "traits": []}
    fb = compose_feedback(text, 2, {}, a, [], generator=False)
    assert not any("sentences" in line or "single sentence" in line for line in _length_lines(fb)), fb.text


def test_an_english_learners_full_stop_without_a_space_ends_a_sentence(shared_data):
    r = _ellipse(shared_data, "1B2B4A98C5E6")
    assert "test .I thing" in r["full_text"]
    assert measure(r["full_text"]).n_sentences == 3
    a = {"id": 7102, "prompt": r["prompt"], "score_min": 1, "score_max": 5, "traits": []}
    fb = compose_feedback(r["full_text"], 1, {}, a, [], generator=False)
    assert not any("sentences" in line for line in _length_lines(fb)), fb.text


@pytest.mark.parametrize("text, n", [
    ("I got a c average .If you make it a b average we can play.", 2),
    ("He is fail in his test .I thing it is a big problem.", 2),
    ("IT HELPS OLDER PERSONS.I THINK IT IS GOOD.", 2),
    ("We waited.Then the bus came.", 2),
    ("Really?Yes it is.", 2),
    ("It cost 3.50 dollars.It was cheap.", 2),
    # what must stay whole
    ("The U.S.A is a big country.", 1),
    ("J.K.Rowling wrote the books.", 1),
    ("I met Mr.Smith at the store.", 1),
    ("It rose 3.5 percent.", 1),
    ("Use a site like google.com for it.", 1),
    ("Some planets, e.g. Mars, are red.", 1),
    # "etc." before a capitalised word ends its sentence; before a lower-case one it does not
    ("They were sad and etc. The facial muscles moved.", 2),
    ("Cats, dogs, etc. and birds live here.", 1),
])
def test_where_a_sentence_ends(text, n):
    assert len(split_sentences(text)) == n, split_sentences(text)


def test_a_stop_typed_before_the_space_is_a_missing_space():
    """The mechanics point names the habit, so the student learns why the sentences run on."""
    stats = measure("I got a c average .If you make it a b average we win .So we play.He said so.")
    assert stats.missing_spaces == 3
    assert "3 missing spaces after punctuation" in mechanics(stats)["text"]


SHAPES = {
    "stops before capitals": "Cars are loud. " + "ab .Ab" * (ESSAY_LIMIT // 6),
    "capitals run together": "Cars are loud. " + "AB.CD" * (ESSAY_LIMIT // 5),
    "etc. before capitals": "Cars are loud. " + "etc. Ab " * (ESSAY_LIMIT // 8),
}


@pytest.mark.parametrize("tail", SHAPES.values(), ids=SHAPES.keys())
def test_many_sentence_ends_without_a_space_cost_seconds_at_most(tail, course, trait_assignment, held_out):
    """docs/testing.md "Hostile text": every check reads these sentences; each shape is tens of
    thousands of them at the essay limit."""
    text, score = held_out[0]
    essay = (text + "\n\n" + tail)[:ESSAY_LIMIT]
    started = time.monotonic()
    assert len(split_sentences(essay)) > 10_000
    compose_feedback(essay, score, {"evidence": 2}, trait_assignment, course, generator=False)
    assert time.monotonic() - started < 30
