""""Very short" is not said of an essay of normal length.

Found in a teacher walkthrough: an essay that argues its point at a normal length got the stock
comment "This response is very short and does not yet answer the prompt.", written for a stub.
"""
from __future__ import annotations

import pytest

from worker.feedback.compose import compose_feedback
from worker.feedback.disproved import absent_faults, disproved, faults_claimed
from worker.feedback.textstats import measure

SHORT = "This response is very short and does not yet answer the prompt."
EXPLAIN = "Explain how each piece of evidence proves the Face is a landform instead of only listing it."


@pytest.mark.parametrize("sentence, claims", [
    (SHORT, True),
    ("Your essay is too short to show what you know about the landform.", True),
    ("Your essay is still far too short, so add two more reasons.", True),
    ("This is a very short essay for such a big question.", True),
    ("Your response needs to be much longer and use the article.", True),
    ("The essay is not long enough to answer every part of the prompt.", True),
    ("Make your essay longer by explaining each piece of evidence.", True),
    # a part of the essay, or the essay's sentences, are not the essay
    ("Your conclusion is too short, so restate the claim and your reasons.", False),
    ("This paragraph is too short to hold a whole reason.", False),
    ("Your sentences are very short, so combine some of them.", False),
    ("Short quotes from the article work better than long ones.", False),
    ("Your introduction needs to be longer and state the claim.", False),
])
def test_which_sentences_say_the_essay_is_too_short(sentence, claims):
    assert ("length" in faults_claimed(sentence)) is claims


GRADED_WORDS = [120, 180, 240, 300, 350, 380, 420, 460, 520, 600]   # median 350 (hand-in counts)


def _absent(text: str, graded_words=GRADED_WORDS) -> dict:
    return absent_faults(text, measure(text), [], graded_words)


def test_an_essay_as_long_as_half_the_graded_essays_is_not_short():
    normal = "The face is a natural mesa that the photos show clearly. " * 36   # 396 words
    stub = "The face is a natural mesa that the photos show clearly. " * 8      # 88 words
    assert disproved(SHORT, _absent(normal))
    assert not disproved(SHORT, _absent(stub))
    # too few graded essays to know what length is usual here: nothing is refused
    assert not disproved(SHORT, _absent(normal, GRADED_WORDS[:3]))


def _course_saying_short(course):
    return [ex._replace(comment=f"{SHORT} {EXPLAIN}") if ex.score == 3 else ex for ex in course]


def test_a_normal_length_essay_is_not_told_it_is_very_short(course, held_out, assignment):
    examples = _course_saying_short(course)
    lengths = sorted(len(ex.text.split()) for ex in course)
    median = lengths[len(lengths) // 2]
    checked = 0
    for text, _ in held_out:
        if not median + 20 <= len(text.split()) <= median + 150:
            continue
        fb = compose_feedback(text, 3, {}, {**assignment, "id": 911}, examples, generator=False)
        teacher = [p["text"] for p in fb.parts if p["kind"] == "teacher"]
        assert teacher and SHORT not in teacher, fb.text
        checked += 1
        if checked == 5:
            break
    assert checked == 5


def test_a_short_essay_still_hears_it(course, held_out, assignment):
    examples = _course_saying_short(course)
    text = " ".join(held_out[0][0].split()[:70])
    fb = compose_feedback(text, 3, {}, {**assignment, "id": 912}, examples, generator=False)
    assert SHORT in [p["text"] for p in fb.parts if p["kind"] == "teacher"], fb.text
