"""One line per scored trait: the teacher's sentence naming it at that trait score, else what
the next score up looks like in the teacher's words, else the score alone; unscored traits get
no line. Never how many graded essays scored higher."""
from __future__ import annotations

from worker.feedback.compose import compose_feedback

from worker.feedback.disproved import disproved

from .conftest import TRAITS, absent_for


def trait_parts(fb) -> dict:
    return {p["evidence"]["trait"]: p for p in fb.parts if p["kind"] == "trait"}


def test_every_scored_trait_gets_a_line(course, held_out, trait_assignment):
    quoted = 0
    for text, score in held_out[:12]:
        predicted = {"evidence": 2, "organization": 3, "conventions": 1, "voice": 3}
        fb = compose_feedback(text, score, predicted, trait_assignment, course)
        lines = trait_parts(fb)
        assert list(lines) == [t["name"] for t in TRAITS]
        for name in ("evidence", "organization", "conventions"):
            ev = lines[name]["evidence"]
            # This teacher has few sentences per trait; where this essay's measurements disprove
            # them ("spelling errors" to an essay with none), the line quotes one from an essay
            # scored up to a point higher, said to be from it, or gives the score alone.
            if ev["source"] == "next_step":
                source = course[ev["example"]]
                assert ev["sentence"] in source.comment
                assert predicted[name] < source.trait_scores[name] == ev["example_trait_score"] <= predicted[name] + 1
                assert lines[name]["text"] == (
                    f"{name.capitalize()}: {predicted[name]} of 4. On an essay scored "
                    f'{source.trait_scores[name]} of 4 for {name}, the teacher wrote: "{ev["sentence"]}"')
                continue
            if ev["source"] != "teacher_comment":
                assert lines[name]["text"] == f"{name.capitalize()}: {predicted[name]} of 4."
                continue
            quoted += 1
            assert not disproved(ev["sentence"], absent_for(text, course, trait_assignment))
            assert name in ev["sentence"].lower()
            source = course[ev["example"]]
            assert ev["sentence"] in source.comment
            assert abs(source.trait_scores[name] - predicted[name]) == ev["tier"] <= 1
            assert lines[name]["text"].startswith(f"{name.capitalize()} ({predicted[name]} of 4): ")
            assert lines[name]["text"] in fb.text
        # nobody ever commented on "voice": the score alone, not how many essays scored higher
        voice = lines["voice"]
        assert voice["evidence"] == {"trait": "voice", "score": 3, "source": "prediction"}
        assert voice["text"] == "Voice: 3 of 4."
        teacher = {p["text"] for p in fb.parts if p["kind"] == "teacher"}
        assert not teacher & {p["evidence"].get("sentence") for p in lines.values()}
    assert quoted >= 30   # of 36 lines


def test_unscored_traits_get_no_line(course, held_out, trait_assignment):
    text, score = held_out[0]
    fb = compose_feedback(text, score, {"organization": 2}, trait_assignment, course)
    assert list(trait_parts(fb)) == ["organization"]
    fb = compose_feedback(text, score, None, trait_assignment, course)
    assert trait_parts(fb) == {}


def test_trait_line_without_any_course_trait_scores(course, held_out, trait_assignment):
    plain = [ex._replace(trait_scores={}, comment="") for ex in course[:50]]
    text, score = held_out[0]
    fb = compose_feedback(text, score, {"voice": 2}, {**trait_assignment, "id": 401}, plain)
    assert trait_parts(fb)["voice"]["text"] == "Voice: 2 of 4."
