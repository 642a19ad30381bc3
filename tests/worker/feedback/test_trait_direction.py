"""A trait line quotes a sentence from an essay graded one off only when it fits this side of the
score: a top trait score never gets the criticism written for a weaker essay ("Organization (4 of
4): Decent start, but organize paragraphs better."), a bottom one never gets a stronger essay's
praise. With nothing fitting, the line gives the score alone (found by a reviewer)."""
from __future__ import annotations

from worker.feedback.compose import compose_feedback
from worker.feedback.records import GradedExample

from .conftest import PROMPT

ORGANIZATION = [{"name": "Organization", "min": 1, "max": 4}]


def _assignment(aid: int) -> dict:
    return {"id": aid, "prompt": PROMPT, "score_min": 1, "score_max": 6, "traits": ORGANIZATION}


def _regraded(course, comments: dict[int, str], trait) -> list[GradedExample]:
    """The course's real essays with one comment per score and Organization = trait(score)."""
    return [GradedExample(ex.text, ex.score, {"Organization": trait(int(ex.score))},
                          comments[int(ex.score)]) for ex in course]


def _organization_line(fb) -> dict:
    [line] = [p for p in fb.parts if p["kind"] == "trait"]
    return line


def test_a_top_trait_score_is_not_given_a_weaker_essays_criticism(course, held_out):
    # Only essays with Organization 3 have a comment naming it, and it is a criticism.
    comments = {1: "Too short; develop your ideas.", 2: "Your argument needs more support.",
                3: "Decent start, but organize your paragraphs better.",
                4: "Good reasons; add more evidence.", 5: "Strong essay with clear reasons.",
                6: "Excellent, persuasive and well argued."}
    examples = _regraded(course, comments, lambda s: min(4, s))
    for text, _ in held_out[:5]:
        fb = compose_feedback(text, 6, {"Organization": 4}, _assignment(701), examples,
                              generator=False)
        line = _organization_line(fb)
        assert "organize your paragraphs better" not in fb.text, line["text"]
        assert line["text"] == "Organization: 4 of 4.", line["text"]   # the top: no next step
        # one step below the top, the same sentence is that score's own teacher voice
        fb = compose_feedback(text, 4, {"Organization": 3}, _assignment(701), examples,
                              generator=False, max_sentences=0)
        assert _organization_line(fb)["evidence"]["sentence"] == comments[3]


def test_a_bottom_trait_score_is_not_given_a_stronger_essays_praise(course, held_out):
    # Organization 2 essays carry either praise of it or advice about it; nobody at 1 names it.
    praise = "Your paragraphs are well organized."
    advice = "Plan the organization of your paragraphs first."
    examples = [ex._replace(comment=praise if i % 2 else advice) if ex.score == 2 else ex
                for i, ex in enumerate(_regraded(
                    course, {s: "Your argument needs more support." for s in range(1, 7)},
                    lambda s: min(4, s)))]
    for text, _ in held_out[:5]:
        # no summary sentences: they would take the candidates before the trait line
        fb = compose_feedback(text, 1, {"Organization": 1}, _assignment(702), examples,
                              generator=False, max_sentences=0)
        line = _organization_line(fb)
        assert praise not in fb.text, line["text"]
        # advice from the essay a step above still helps the weakest one
        assert line["evidence"].get("sentence") == advice, line["text"]


def test_the_summary_never_gives_the_weakest_essay_a_stronger_essays_praise(course, held_out):
    """The summary's sentences from essays one score off follow the same rule as trait lines: a
    score-1 essay was told "Your paragraphs are well organized.", written for a score-2 essay."""
    praise = "Your paragraphs are well organized and your reasons are clear."
    advice = "Give each paragraph one clear reason and support it with evidence."
    comments = {1: "", 3: "Strong reasons.", 4: "Strong reasons.", 5: "Strong essay.", 6: "Excellent."}
    examples = [GradedExample(ex.text, ex.score, {}, comments.get(int(ex.score), praise if i % 2 else advice))
                for i, ex in enumerate(course)]
    assignment = {**_assignment(703), "traits": []}
    for text, _ in held_out[:5]:
        assert praise not in compose_feedback(text, 1, {}, assignment, examples, generator=False).text
