"""One line per scored trait: the teacher's sentence naming it at that trait score, else the
course's trait-score numbers; unscored traits get no line."""
from __future__ import annotations

from worker.feedback.compose import compose_feedback

from worker.feedback.disproved import disproved
from worker.feedback.points import share_words

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
            # them ("spelling errors" to an essay with none), the line gives the numbers.
            if ev["source"] != "teacher_comment":
                assert ev["source"] == "course_trait_scores"
                continue
            quoted += 1
            assert not disproved(ev["sentence"], absent_for(text, course, trait_assignment))
            assert name in ev["sentence"].lower()
            source = course[ev["example"]]
            assert ev["sentence"] in source.comment
            assert abs(source.trait_scores[name] - predicted[name]) == ev["tier"] <= 1
            assert lines[name]["text"].startswith(f"{name.capitalize()} ({predicted[name]} of 4): ")
            assert lines[name]["text"] in fb.text
        # nobody ever commented on "voice": the line reports the course's numbers instead
        voice = lines["voice"]
        scores = [ex.trait_scores["voice"] for ex in course]
        higher = sum(1 for s in scores if s > 3) / len(scores)
        assert voice["evidence"]["source"] == "course_trait_scores"
        assert voice["evidence"]["share_higher"] == round(higher, 3)
        # in words a student reads: no median, no percentage
        assert voice["text"] == f"Voice: 3 of 4 ({share_words(higher, 'essays')} graded for this assignment scored higher)."
        assert "%" not in voice["text"] and "median" not in voice["text"]
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
