"""Essays shaped to make the worker's text checks slow: a student can hand one in (up to the
100,000-character limit) and replace it as often as they like, and while a check runs the worker's
heartbeat threads wait too (the GIL), so pages report no worker. Each check must stay linear in
the essay's length: the quadratic patterns took minutes on these."""
from __future__ import annotations

import time

import pytest

from worker.feedback.compose import compose_feedback
from worker.feedback.spelling import misspelled

LIMIT = 99_000
HOSTILE = {
    "blank lines ending on no letter": "Cars are loud.\n" + "\n" * LIMIT + "1",
    "one endless word": "Cars are loud. " + "a" * LIMIT,
    "an endless word with accents": "Cars are loud. " + "a\u0301" * (LIMIT // 2),
    "an endless word with apostrophes": "Cars are loud. " + "a'" * (LIMIT // 2),
    "endless hyphenated words": "Cars are loud. " + "ab-" * (LIMIT // 3),
    "endless dotted names": "Cars are loud. " + "ab." * (LIMIT // 3),
    "endless full stops": "Cars are loud. " + ". " * (LIMIT // 2),
    "endless capitals": "Cars are loud. " + "A" * LIMIT,
    "endless brackets and quotes": "Cars are loud. " + "(\"" * (LIMIT // 2),
    "endless commas": "Cars are loud, " + "a," * (LIMIT // 2),
}


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
