"""A trait line with no teacher sentence of its own says the score on its scale and, where the
course has it, what the next score up on that trait looks like in the teacher's own words; never
how many graded essays scored higher.

Found in review: "Cohesion: 1 of 5 (all essays graded for this assignment scored higher)." told
the weakest writer in the class that every classmate did better. Comparisons with peers discourage
low achievers (Black & Wiliam; Hattie & Timperley; Kluger & DeNisi), and no teacher writes that.
Lines sent in the old wording live on in LMS gradebooks and come back in CSV imports: Gradeloop
still knows them for its own and never reuses them as a teacher's sentences.
"""
from __future__ import annotations

import re

from worker.feedback.comments import _MACHINE, prompt_ngram_set, reusable_sentences
from worker.feedback.compose import compose_feedback
from worker.feedback.records import GradedExample
from worker.feedback.textstats import split_sentences

from .conftest import PROMPT, TRAITS, trait_scores_for
from .test_reuse_guards import KNOWN, OTHER_ESSAY

COHESION = [{"name": "Cohesion", "min": 1, "max": 5}]
NEXT_STEP = "Your cohesion is strong because each paragraph links back to the claim."
PEERS = re.compile(r"scored higher|classmates|\b(in 10|all|most|none of the) essays\b(?! graded [\d.]+ or higher)", re.I)


def _assignment(aid: int) -> dict:
    return {"id": aid, "prompt": PROMPT, "score_min": 1, "score_max": 6, "traits": COHESION}


def _cohesion_course(course, cohesion, comment) -> list[GradedExample]:
    """The course's real essays with Cohesion = cohesion(score) and comment(Cohesion)."""
    return [GradedExample(ex.text, ex.score, {"Cohesion": cohesion(int(ex.score))},
                          comment(cohesion(int(ex.score)))) for ex in course]


def _line(fb) -> dict:
    [line] = [p for p in fb.parts if p["kind"] == "trait"]
    return line


def test_the_weakest_essay_is_not_told_that_every_essay_scored_higher(course, held_out):
    # every graded essay scored 2 or more, and no comment names cohesion
    examples = _cohesion_course(course, lambda s: min(5, s + 1), lambda c: "Your argument needs more support.")
    for text, _ in held_out[:3]:
        fb = compose_feedback(text, 1, {"Cohesion": 1}, _assignment(731), examples, generator=False)
        assert _line(fb)["text"] == "Cohesion: 1 of 5.", fb.text
        assert _line(fb)["evidence"] == {"trait": "Cohesion", "score": 1, "source": "prediction"}
        assert not PEERS.search(fb.text), fb.text


def test_the_next_score_up_in_the_teachers_own_words(course, held_out):
    # Only essays with Cohesion 3 have a sentence naming it, praise: a 3 is never given it as its
    # own voice below, but a 2 is shown it as what an essay scored 3 was told.
    examples = _cohesion_course(course, lambda s: min(5, s), lambda c: NEXT_STEP if c == 3 else
                                "Your argument needs more support.")
    for text, _ in held_out[:3]:
        fb = compose_feedback(text, 2, {"Cohesion": 2}, _assignment(732), examples, generator=False,
                              max_sentences=0)
        line = _line(fb)
        assert line["text"] == f'Cohesion: 2 of 5. On an essay scored 3 of 5 for Cohesion, the teacher wrote: "{NEXT_STEP}"'
        assert line["evidence"]["source"] == "next_step" and line["evidence"]["example_trait_score"] == 3
        assert examples[line["evidence"]["example"]].trait_scores["Cohesion"] == 3
        assert NEXT_STEP in examples[line["evidence"]["example"]].comment
        # up to one point higher: 1 and 1.5 are too far below the 3s
        for below in (1, 1.5):
            fb = compose_feedback(text, 2, {"Cohesion": below}, _assignment(732), examples, generator=False,
                                  max_sentences=0)
            assert NEXT_STEP not in fb.text and _line(fb)["text"] == f"Cohesion: {below:g} of 5.", fb.text


def test_the_top_score_has_no_next_step(course, held_out):
    advice = "Your cohesion needs more links between the paragraphs."   # a weaker essay's: not for a 5
    examples = _cohesion_course(course, lambda s: min(5, s), lambda c: advice if c == 4 else "")
    text, _ = held_out[0]
    fb = compose_feedback(text, 6, {"Cohesion": 5}, _assignment(733), examples, generator=False)
    assert _line(fb)["text"] == "Cohesion: 5 of 5."


def test_no_feedback_ranks_the_essay_among_the_graded_ones(course, held_out, trait_assignment):
    """Measured points still describe what essays graded higher do ("most essays graded 4 or
    higher quote it"): that is the standard, not where this essay stands among classmates."""
    seen = set()
    for i, (text, score) in enumerate(held_out[:40]):
        fb = compose_feedback(text, score, trait_scores_for(score, 7000 + i), trait_assignment, course,
                              generator=False)
        assert not PEERS.search(fb.text), fb.text
        seen |= {p["evidence"]["source"] for p in fb.parts if p["kind"] == "trait"}
    assert seen == {"teacher_comment", "next_step", "prediction"}


OLD_LINES = (
    "Evidence: 2 of 4 (the course's 300 graded essays: median 2, 40% scored higher).\n"
    "Cohesion: 1 of 5 (all essays graded for this assignment scored higher).\n"
    "Voice: 4 of 4 (none of the essays graded for this assignment scored higher).\n"
    "Organisation & structure: 3 of 5 (about 4 in 10 essays graded for this assignment scored higher).")
NEW_LINES = (
    f'Cohesion: 2 of 5. On an essay scored 3 of 5 for Cohesion, the teacher wrote: "{NEXT_STEP}"\n'
    "Organisation & structure: 2.5 of 5. On an essay scored 3.5 of 5 for Organisation & structure, "
    "the teacher wrote: \"Each paragraph opens with a clear reason.\"\n"
    "Voice: 3 of 4.\n"
    "- The essay is a single sentence of 48 words.\n"
    "- The essay has only 2 sentences (61 words).")


def test_every_sentence_of_a_composed_trait_line_is_known_as_gradeloops_own():
    """By its format, not only because it quotes: a gradebook may give the quotation marks back as
    other characters, or drop them."""
    for line in (OLD_LINES + "\n" + NEW_LINES).replace('"', "").splitlines():
        for sentence in split_sentences(line):
            assert _MACHINE.search(sentence), sentence


def test_trait_lines_old_and_new_come_back_in_an_import_and_are_not_reused():
    own = "Add at least two pieces of evidence from the article and explain each one."
    for comment in (f"{OLD_LINES}\n{NEW_LINES}\n{own}",
                    # an LMS that keeps no line breaks
                    " ".join(f"{OLD_LINES} {NEW_LINES.replace('- ', '')} {own}".split())):
        kept = reusable_sentences(comment, OTHER_ESSAY, KNOWN, prompt_ngram_set(PROMPT),
                                  proper_nouns=frozenset())
        assert kept == [own], kept
