"""Essays shaped to make the worker's text checks slow: a student can hand one in (up to the
100,000-character limit) and replace it as often as they like, and while a check runs the worker's
heartbeat threads wait too (the GIL), so pages report no worker. Each check must stay linear in
the essay's length: the quadratic patterns took minutes on these."""
from __future__ import annotations

import time
import tracemalloc

import pytest

from tests.hostile_texts import ESSAY_LIMIT as LIMIT
from tests.hostile_texts import HOSTILE, HOSTILE_COMMENTS
from worker.feedback.comments import reusable_sentences
from worker.feedback.compose import compose_feedback
from worker.feedback.spelling import course_vocabulary, misspelled
from worker.feedback.textstats import measure


@pytest.mark.parametrize("essay", HOSTILE.values(), ids=HOSTILE.keys())
def test_the_spelling_check_of_a_hostile_essay_at_the_size_limit_ends_in_seconds(essay):
    started = time.monotonic()
    misspelled(essay)
    # Linear: well under a second here. The bound is loose so that a loaded CI machine cannot
    # fail it; the quadratic patterns took 2 to 4 minutes.
    assert time.monotonic() - started < 15


@pytest.mark.parametrize("tail", HOSTILE.values(), ids=HOSTILE.keys())
def test_the_whole_written_feedback_of_a_hostile_essay_ends_in_seconds(tail, course, trait_assignment, held_out):
    """Every check the feedback runs (points, disproved criticism, sentence choice, traits), on a
    real essay followed by the hostile part, at the size limit."""
    text, score = held_out[0]
    essay = (text + "\n\n" + tail)[:LIMIT]
    started = time.monotonic()
    compose_feedback(essay, score, {"evidence": 2}, trait_assignment, course, generator=False)
    assert time.monotonic() - started < 30


@pytest.mark.parametrize("essay", HOSTILE.values(), ids=HOSTILE.keys())
def test_the_measures_of_a_hostile_essay_at_the_size_limit_end_in_seconds(essay):
    """Sentences, paragraphs, quotes and slips: every point and check starts from these."""
    started = time.monotonic()
    measure(essay)
    assert time.monotonic() - started < 15


@pytest.mark.parametrize("comment", HOSTILE_COMMENTS.values(), ids=HOSTILE_COMMENTS.keys())
def test_hostile_teacher_comments_at_the_size_limit_are_sifted_in_seconds(comment):
    """A comment's sentences are tried for reuse on other essays (names, private matters, what
    they lean on): the same shapes in the comments of ten graded essays, each of the form's
    20,000 characters (a course's examples are all sifted when its feedback is first composed)."""
    started = time.monotonic()
    for n in range(10):
        reusable_sentences(f"{n} {comment}", "An essay about cars.", frozenset(), proper_nouns=frozenset())
    assert time.monotonic() - started < 15


def test_an_endless_word_in_the_better_essays_costs_no_memory_to_tell_from_english():
    """A word shared by the better-graded essays is tried against every English word one edit
    away, and those edits grow with the square of its length: 900 MB for 4,000 letters, all the
    worker's memory for a 100,000-letter one. No longer word is one edit from an English word."""
    word = "abcdefghijklmnopqrstuvwxy" * 160      # 4,000 letters, no English word
    # In 3 of 17 essays: too few to be taken as the course's word without that test.
    essays = [(f"Cars are loud. {word} Cars are loud.", 5.0)] * 3 + [("Cars are loud.", 5.0)] * 14
    tracemalloc.start()
    try:
        started = time.monotonic()
        vocabulary = course_vocabulary(essays)
        elapsed = time.monotonic() - started
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert word in vocabulary      # near no English word: the course's own, as before
    assert peak < 50_000_000 and elapsed < 15
