"""In an assignment that asks for a short answer, an answer under 25 words is what was asked when
the teacher gives answers of that length full marks: it is no stub (which would say "The essay has
only 20 words", withhold every teacher sentence and rule out praise). The course's own graded
answers decide (`points.stub`): under half the usual length of those at its predicted level or
above, it still is one, as 3 words are. Essay courses keep the fixed count of 25 words.

Before, every answer under 25 words was a stub, so a full-marks answer of 16 or 20 words in a
one-or-two-sentence assignment got none of the teacher's words, while the teacher's own
full-marks answers ran 16-35 words.
"""
from __future__ import annotations

import random
import re

import pytest

from worker.feedback.compose import compose_feedback
from worker.feedback.records import GradedExample

ASSIGNMENT = {"id": 3, "prompt": "In one or two sentences, explain why the Face on Mars is a natural landform.",
              "score_min": 0, "score_max": 3, "traits": [{"name": "reasoning", "min": 0, "max": 3}]}
ANSWERS = {
    3: ["The 2001 photo had much better resolution and showed a mesa with no eyes or mouth.",
        "Sharper photos from Mars Global Surveyor show a butte, and the face was only shadows in 1976.",
        "It is a mesa: the clearer 1998 and 2001 pictures show no face, just a hill lit from the side.",
        "The Viking photo was blurry and the shadows made eyes, but the later high resolution photos show "
        "a normal landform.",
        "NASA took new photos with better cameras and they show a butte like the ones in the American West, "
        "not a sculpted face.",
        "The face is a natural mesa because the 2001 image showed it clearly and landforms like it are "
        "common in Idaho and on Earth.",
        "Low resolution and shadows in the 1976 Viking picture made a face appear, while the sharp 2001 "
        "picture shows an ordinary butte with no features anyone built.",
        "Scientists compared the old and new photos, and the new ones, taken in 2001 at much higher "
        "resolution, show a mesa of rock that erosion shaped, the same as buttes in the Snake River Plain."],
    2: ["It is natural because the new pictures showed it was just a hill.",
        "The face was made by shadows, so it is not real and aliens did not make it.",
        "NASA said it is a landform because they took more pictures of it later on.",
        "The new photos showed a mesa and not a face, so it is natural and not built.",
        "It is a butte because the pictures from 2001 were clearer than the old ones.",
        "The article says it is a mesa so it is natural and made by nature over time."],
    1: ["It is natural because NASA said so.",
        "Because it is just a rock on Mars and not a face.",
        "Aliens did not make it because there are no aliens on Mars at all.",
        "The face is natural because things on Mars are natural.",
        "It was made by nature and not by people or aliens."],
    0: ["I do not know.", "Aliens made it.", "It is a face.", "idk", "Mars is red and far away."],
}
COMMENTS = {3: ["You name the clearer photo and say what it showed, which is exactly what was asked.",
                "Precise and complete: the year and the camera make the reasoning convincing."],
            2: ["Good start, now say which photo showed the mesa and when it was taken.",
                "Your reasoning is right but needs one fact from the article to prove it."],
            1: ["Give a reason from the article instead of only saying it is natural.",
                "Name one thing the newer photos showed to support your answer."],
            0: ["Answer the question with a claim and one fact from the article.",
                "Read the article again and look for what the photos showed."]}
# Full-marks answers of 20 and 16 words (as the hand-in page counts them), as long as the
# teacher's shorter full-marks answers.
FULL_MARKS = "The clearer 2001 photo showed a flat mesa with no face, so shadows made the old image look like one."
SHORTEST = "The sharper 2001 photo showed a plain mesa, so the face was only shadows in 1976."


def _course(times: int = 1) -> list[GradedExample]:
    rnd = random.Random(5)
    return [GradedExample(text=" ".join([text] * times), score=score, trait_scores={"reasoning": score},
                          comment=" ".join(rnd.sample(COMMENTS[score], 2)))
            for score, texts in ANSWERS.items() for text in texts]


def _length(fb) -> dict | None:
    return next((p for p in fb.parts if p["kind"] == "length"), None)


@pytest.mark.parametrize("answer", [FULL_MARKS, SHORTEST])
def test_a_full_marks_answer_of_16_to_20_words_is_no_stub_where_short_answers_are_asked_for(answer):
    fb = compose_feedback(answer, 3, {"reasoning": 3}, ASSIGNMENT, _course(), generator=False)
    told = _length(fb)
    assert not (told and told["evidence"].get("too_short")), fb.text
    assert not re.search(r"only \d+ words", fb.text), fb.text
    assert "teacher" in fb.kinds(), fb.text     # the teacher's words reach it again


@pytest.mark.parametrize("answer, score", [("It is natural.", 3), ("It is natural.", 1), ("It is natural.", 0), ("Aliens.", 0)])
def test_an_answer_of_a_few_words_is_still_a_stub(answer, score):
    fb = compose_feedback(answer, score, {"reasoning": score}, ASSIGNMENT, _course(), generator=False)
    told = _length(fb)
    assert told and told["evidence"].get("too_short"), fb.text
    assert "teacher" not in fb.kinds(), fb.text


def test_an_empty_answer_is_told_nothing_was_received():
    fb = compose_feedback("   ", 0, {"reasoning": 0}, ASSIGNMENT, _course(), generator=False)
    assert fb.kinds() == ["empty"]


def test_in_an_essay_course_the_same_answer_is_still_a_stub():
    fb = compose_feedback(FULL_MARKS, 3, {"reasoning": 3}, ASSIGNMENT, _course(times=12), generator=False)
    told = _length(fb)
    assert told and told["evidence"].get("too_short"), fb.text
    assert "teacher" not in fb.kinds(), fb.text
