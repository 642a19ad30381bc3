"""An assignment that asks for a short answer (a sentence or two): its best answers are one or two
sentences, so the fewer-than-3-sentences point (`points.MIN_SENTENCES`) must not call a full-marks
answer a stub there, which would also shut out every teacher sentence (an issue of the whole
essay). Essay courses keep the point (tests/worker/feedback/test_few_sentences.py)."""
from __future__ import annotations

import random

from worker.feedback.compose import compose_feedback
from worker.feedback.records import GradedExample

ASSIGNMENT = {"id": 1, "prompt": "In two sentences, explain why the Face on Mars is a natural landform.",
              "score_min": 0, "score_max": 3, "traits": [{"name": "reasoning", "min": 0, "max": 3}]}
GOOD = ["The Face on Mars is a natural landform because the higher resolution photos from Mars Global Surveyor show "
        "a butte or mesa like those in the American West. The shadows in the 1976 Viking photo only made it look "
        "like a face.",
        "Scientists showed that the Face is a mesa, since the 1998 and 2001 pictures had much better resolution and "
        "showed no eyes or mouth at all. Landforms like this are common in Idaho and the Snake River Plain."]
COMMENTS = {3: ["Your reasoning links the higher resolution photos to the conclusion very clearly.",
                "Excellent use of the evidence about the 2001 photo to support the landform claim.",
                "This is a complete and precise answer that names the evidence and explains it."],
            2: ["Your reasoning is on track, but explain how the photos prove it is a landform.",
                "Add one specific detail from the article, such as the year of the clearer photo."],
            1: ["Your reasoning needs evidence from the article, not only your opinion about aliens.",
                "State your claim and then give one fact from the article that supports it."]}
ANSWER = ("The Face is only a mesa, because the sharper 2001 Mars Global Surveyor photo showed a flat hill and no "
          "face, and the 1976 Viking photo had low resolution. Similar buttes are found on Earth in the West.")


def _course() -> list[GradedExample]:
    rnd = random.Random(3)
    out = []
    for i in range(30):
        score = [3, 2, 1][i % 3]
        text = GOOD[i % 2] if score == 3 else ("The Face is probably natural because NASA said so in the article "
                                               f"and the photos changed over time, as answer {i} argues.")
        out.append(GradedExample(text=text, score=score, trait_scores={"reasoning": score},
                                 comment=" ".join(rnd.sample(COMMENTS[score], 2))))
    return out


def test_a_full_marks_two_sentence_answer_is_no_stub_where_short_answers_are_asked_for():
    fb = compose_feedback(ANSWER, 3, {"reasoning": 3}, ASSIGNMENT, _course(), generator=False)
    assert not any(p["kind"] == "length" and p["evidence"].get("few_sentences") for p in fb.parts), fb.text
    assert "teacher" in fb.kinds(), fb.text


def test_the_same_answer_in_an_essay_course_is_told_it_has_only_two_sentences():
    essays = [GradedExample(text=(g.text + " ") * 8, score=g.score, trait_scores=g.trait_scores, comment=g.comment)
              for g in _course()]
    fb = compose_feedback(ANSWER, 3, {"reasoning": 3}, ASSIGNMENT, essays, generator=False)
    assert any(p["kind"] == "length" and p["evidence"].get("few_sentences") for p in fb.parts), fb.text
