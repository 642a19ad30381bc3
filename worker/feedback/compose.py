"""Compose the written feedback for one scored essay (the public entry point).

Three kinds of content, in this order, and nothing else:
1. "teacher": sentences the teacher wrote on similar essays at the predicted score (then one
   step away), verbatim, each pointing at the graded example it came from;
2. measured points about THIS essay (length, paragraphs, spelling, mechanics, sentences,
   use of the source), only where they stand out;
3. "trait": one line per scored trait.
With nothing specific to say the feedback is short; an empty essay (or only a link, or only
numbers and symbols) gets one factual line.
An essay that does not look like an answer to this assignment (keyboard mash, an essay for
another prompt) gets no teacher sentences, only one plain line asking the teacher to look at it
(before the measured points and trait numbers).
"""
from __future__ import annotations

import math
import re
from dataclasses import replace

from lti_app.coursework.essay_text import word_count
from worker.feedback import generator as gen
from worker.feedback.cache import course_index
from worker.feedback.language import other_language
from worker.feedback.misspelt_terms import misspelt_terms
from worker.feedback.points import (WHOLE_ESSAY, essay_issues, measured_points, misspelled_once, stub,
                                    work_noun)
from worker.feedback.records import AssignmentView, Feedback
from worker.feedback.select import teacher_sentences
from worker.feedback.textstats import measure, words
from worker.feedback.traits import trait_lines

EMPTY_TEXT = "No essay text was received, so there is nothing to give feedback on yet."
# For an essay in another alphabet (once told that no text was received) and one in another
# language written in Latin letters (once told it missed the prompt, its words "misspelled"):
# `language.other_language`.
NOT_ENGLISH_TEXT = ("Gradeloop gives written feedback on essays in English, and this essay seems to be "
                    "written in another language, so your teacher will read it.")
LINK_ONLY_TEXT = "The essay is only a link: paste or upload the essay's text itself."
# Digits or symbols only were told "No essay text was received" while a score was proposed.
NO_WORDS_TEXT = "The essay has no words, only numbers or symbols."
# Web addresses, with or without a scheme ("docs.google.com/document/d/..."): their pieces were
# listed as misspellings ("https", "usp") and missing spaces after punctuation.
# A bare address is tried only where a name starts, and each piece is taken whole (`++`): tried
# from inside "ab-ab-ab-..." a student's hostile essay took minutes (the worker's heartbeats wait).
_URL = re.compile(r"(?:https?://|www\.)\S+|(?<![a-z0-9.-])(?:[a-z0-9-]++\.)+[a-z]{2,}/\S*", re.I)
# Students read it (a teacher may approve the proposal as it stands): a fact about the essay, not
# an instruction to the teacher, whose review page lists the reasons itself.
# "answer" where the assignment asks for short answers (`points.work_noun`), as the points say.
OFF_TOPIC_TEXT = "This essay does not seem to address the assignment's prompt."
OFF_TOPIC_ANSWER = OFF_TOPIC_TEXT.replace("This essay", "This answer")
# The reason of the course model's topic check (worker/ml/topic.py) says the text is no answer to
# this assignment. The others (much longer or shorter, run-on sentences, repetition, many unknown
# words: a weak speller's too) describe an answer unlike the graded ones: it gets ordinary
# feedback, and still waits for the teacher. Telling a strong 1,400-word essay, or a dyslexic
# writer's, that it misses the prompt was wrong and hurtful. Keyboard mash fails the similarity
# check below anyway, and another alphabet gets its own line.
NOT_AN_ANSWER = re.compile(r"\buses (none|almost none) of the words", re.I)
# Off-topic floors, TF-IDF (char 3-4-gram) cosine to the most similar graded essay. Measured on
# the PERSUADE "Face on Mars" course (300 graded essays): its 100 held-out essays score 0.28 at
# the lowest (1st percentile 0.30, median 0.41); keyboard mash scores 0.07, a short essay about
# a pet 0.15. Essays written for 11 OTHER prompts score 0.25-0.40 (char n-grams mostly measure
# "English prose"), so between the floors the prompt's key terms decide: held-out on-topic
# essays use at least 2 of the 12, other prompts' essays 0-2 (median 0-1). A misspelt key term
# counts ("alieans": `misspelt_terms`): spelt only as the prompt spells them, 2 of the 700 essays
# not among the 300 graded (scores 1 and 2) used 1 and were flagged; counted, 0 of 700 are, and
# 937 of 1,100 other prompts' essays (100 from each of 11 prompts) still are (938 before).
OFF_TOPIC_SIMILARITY = 0.2
OFF_TOPIC_UNSURE = 0.3
OFF_TOPIC_MAX_TERMS = 1
OFF_TOPIC_MIN_EXAMPLES = 10


def _score_text(score: float, a: AssignmentView) -> str:
    value = f"{score:g}" if float(score).is_integer() else f"{score:.1f}"
    return f"{value} out of {a.score_max:g}"


def compose_feedback(essay_text: str, predicted_score: float, trait_scores: dict | None,
                     assignment, graded_examples, *, max_sentences: int = 3, max_points: int = 5,
                     essay_embedding=None, example_embeddings=None, generator=None,
                     unusual: list[str] | None = None) -> Feedback:
    """Feedback for `essay_text` scored `predicted_score` on `assignment`'s scale.

    `graded_examples`: the course's graded essays as `GradedExample` records (see
    `loading.load_graded_examples`). `essay_embedding` / `example_embeddings` (one row per
    example): the course model's vectors, used for similarity instead of TF-IDF when given.
    `generator`: None reads `GRADELOOP_FEEDBACK_MODEL` (unset: retrieval only), False turns
    generation off, or a callable(prompt) -> str. `unusual`: the course model's reasons why the
    essay is unlike those it learned from (`AiProposal.unusual`); the topic check's reason (another
    assignment's words: `NOT_AN_ANSWER`) flags it off topic, so the two checks agree. Otherwise the
    similarity check below still applies.
    """
    if predicted_score is None or not math.isfinite(float(predicted_score)):
        raise ValueError(f"predicted_score must be a number, got {predicted_score!r}")
    a = AssignmentView.of(assignment)
    handed_in = essay_text or ""
    text = _URL.sub(" ", handed_in)   # every check below reads the prose, never a link's pieces
    # The count stated is still the hand-in page's, which counts a link as a word.
    stats = replace(measure(text), shown_words=word_count(handed_in))
    unreadable = _unreadable(handed_in, text, stats)
    if unreadable:
        return unreadable
    index = course_index(graded_examples or [], a, example_embeddings)
    sims = index.similarities(text, essay_embedding)
    level = index.level(predicted_score)
    points = measured_points(text, stats, index, level, max(0, max_points))
    issues = essay_issues(points, text, stats, index)
    too_short = stub(stats.shown_words, index, level)   # the count the length point states
    if too_short:   # a stub is one, its length point shown or not (`max_points`)
        issues[WHOLE_ESSAY] = max(issues.get(WHOLE_ESSAY, 0.0), 1.0)
    # A few words give no basis for matching the teacher's comments on real essays (and a
    # mis-scored stub must not collect praise written for a full essay).
    voice = 0 if too_short else max(0, max_sentences)
    elsewhere = [r for r in unusual or [] if NOT_AN_ANSWER.search(r)]
    off_topic = {"unusual": elsewhere} if elsewhere else _off_topic(text, index, sims)
    if off_topic:
        voice = 0
    chosen = teacher_sentences(index, sims, level, issues, voice)
    teacher = [{"kind": "teacher", "text": c.text,
                "evidence": {"example": c.example, "example_score": c.score, "tier": tier,
                             "similarity": round(float(sims[c.example]), 3),
                             "aspects": sorted(c.aspects)}}
               for _, c, tier in chosen]
    traits = trait_lines(index, sims, a.traits, trait_scores or {}, [c for _, c, _ in chosen],
                         teacher_voice=not off_topic, issues=issues)
    if off_topic:
        said = OFF_TOPIC_ANSWER if work_noun(index.counts) == "answer" else OFF_TOPIC_TEXT
        flag = [{"kind": "off_topic", "text": said, "evidence": off_topic}]
        return _assemble(flag + points + traits)
    summary = _generated(generator, predicted_score, a, teacher, points, max_sentences) or teacher
    return _assemble(summary + points + traits)


def _unreadable(handed_in: str, prose: str, stats) -> Feedback | None:
    """One plain line for a hand-in with no English prose to comment on, else None."""
    if not handed_in.strip():
        return _one_line("empty", EMPTY_TEXT, words=0)
    if not stats.n_words and _URL.search(handed_in):   # words of any alphabet (`textstats.WORD`)
        return _one_line("link_only", LINK_ONLY_TEXT, links=len(_URL.findall(handed_in)))
    foreign = other_language(stats.word_list)
    if foreign:
        return _one_line("not_english", NOT_ENGLISH_TEXT, **foreign)
    if stats.n_words == 0:
        return _one_line("no_words", NO_WORDS_TEXT, words=0, characters=len(handed_in.strip()))
    return None


def _one_line(kind: str, text: str, **evidence) -> Feedback:
    return Feedback(text, [{"kind": kind, "text": text, "evidence": evidence}])


def _off_topic(text: str, index, sims) -> dict | None:
    """Evidence that the essay does not answer this assignment, or None.

    Only with TF-IDF similarity (the floors are for its scale) over enough graded essays."""
    if (index.matrix is None or getattr(index, "embeddings", None) is not None
            or len(index.examples) < OFF_TOPIC_MIN_EXAMPLES or len(sims) == 0):
        return None
    top = float(max(sims))
    used = {w.lower() for w in words(text)} & set(index.key_terms)
    unsure = top < OFF_TOPIC_UNSURE and len(index.key_terms) >= 6 and len(used) <= OFF_TOPIC_MAX_TERMS
    # A weak speller's "alieans" is the prompt's "aliens" (asked only in the unsure band).
    spelt = misspelt_terms(misspelled_once(text, index.course_words), index.key_terms) if unsure else {}
    used |= set(spelt.values())
    if top < OFF_TOPIC_SIMILARITY or (unsure and len(used) <= OFF_TOPIC_MAX_TERMS):
        return {"top_similarity": round(top, 3), "key_terms_used": sorted(used),
                "key_terms_misspelt": dict(sorted(spelt.items())), "key_terms": list(index.key_terms)}
    return None


def _generated(generator, score, a: AssignmentView, teacher, points, max_sentences) -> list[dict]:
    if generator is False:
        return []
    if generator is None:
        path = gen.configured_path()
        if path is None:
            return []
        generator = gen.load_generator(path)
    material_teacher = [p["text"] for p in teacher]
    material_points = [p["text"] for p in points]
    prompt = gen.build_prompt(_score_text(score, a), material_teacher, material_points)
    kept = gen.postfilter(generator(prompt), max(1, max_sentences))
    if not kept:
        return []
    return [{"kind": "generated", "text": " ".join(kept),
             "evidence": {"model": getattr(generator, "path", repr(generator)),
                          "teacher_sentences": material_teacher, "points": material_points}}]


def _assemble(parts: list[dict]) -> Feedback:
    blocks = []
    lead = [p["text"] for p in parts if p["kind"] in ("off_topic", "teacher", "generated")]
    if lead:
        blocks.append(" ".join(lead))
    measured = [f"- {p['text']}" for p in parts
                if p["kind"] not in ("off_topic", "teacher", "generated", "trait")]
    if measured:
        blocks.append("\n".join(measured))
    trait = [p["text"] for p in parts if p["kind"] == "trait"]
    if trait:
        blocks.append("\n".join(trait))
    return Feedback("\n\n".join(blocks), parts)
