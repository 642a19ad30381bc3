"""What a trait line's next step may quote: nothing for an essay whose problem is the whole essay
(a stub, a single sentence), and never words that make errors small.

Found in review: an 11-word stub read 'Cohesion: 2.5 of 5. On an essay scored 3 of 5 for Cohesion,
the teacher wrote: "Excellent cohesion, every paragraph flows into the next."' (docs/feedback.md:
a stub's trait lines quote no praise), and an English learner with 15 misspellings, Grammar 2.5,
read '... the teacher wrote: "Only a few grammar slips remain, so proofread once more."' as
said of them.
"""
from __future__ import annotations

from worker.feedback.compose import compose_feedback
from worker.feedback.records import GradedExample

from .conftest import PROMPT

PRAISE = "Excellent cohesion, every paragraph flows into the next."
SLIPS = "Only a few cohesion slips remain, so reread each paragraph once more."
ADVICE = "Your cohesion improves when each paragraph opens with a transition."
STUB = "i think the face is just a mesa because nasa took photos of it."
ONE_SENTENCE = ("the face on mars is not made by aliens because nasa took many photos and the photos "
                "show that it is just a mesa or a butte like the ones in the west and the shadows made "
                "it look like a face when the viking took the first photo in 1976 so it is natural")


def _course(course, comment) -> list[GradedExample]:
    """Cohesion 3 (with `comment`) for essays scored 4+, else 2 with a comment naming no trait."""
    return [GradedExample(ex.text, ex.score, {"Cohesion": 3 if ex.score >= 4 else 2},
                          comment if ex.score >= 4 else "Your argument needs more support.")
            for ex in course]


def _line(text, score, examples, **options):
    a = {"id": 751, "prompt": PROMPT, "score_min": 1, "score_max": 6,
         "traits": [{"name": "Cohesion", "min": 1, "max": 5}]}
    fb = compose_feedback(text, score, {"Cohesion": 2}, a, examples, generator=False, max_sentences=0,
                          **options)
    [line] = [p for p in fb.parts if p["kind"] == "trait"]
    return line


def test_a_stub_and_a_one_sentence_essay_get_the_score_alone(course, held_out):
    examples = _course(course, PRAISE)
    for essay in (STUB, ONE_SENTENCE):
        line = _line(essay, 2, examples)
        assert line["text"] == "Cohesion: 2 of 5." and line["evidence"]["source"] == "prediction", line
    # a stub with no measured point shown is still a stub
    assert _line(STUB, 2, examples, max_points=0)["text"] == "Cohesion: 2 of 5."
    # a full essay at the same score still sees the next step
    assert _line(held_out[0][0], 2, examples)["evidence"].get("sentence") == PRAISE


def test_a_next_step_never_makes_errors_small(course, held_out):
    for text, _ in held_out[:5]:
        assert _line(text, 2, _course(course, SLIPS))["text"] == "Cohesion: 2 of 5."
        assert _line(text, 2, _course(course, ADVICE))["evidence"].get("sentence") == ADVICE
