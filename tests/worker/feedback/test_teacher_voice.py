"""The teacher's own sentences: from similar essays at the predicted score, verbatim, reusable."""
from __future__ import annotations

import re

from worker.feedback.comments import reusable_sentences
from worker.feedback.compose import compose_feedback
from worker.feedback.records import GradedExample

from worker.feedback.disproved import disproved

from .conftest import NAMES, VOICE, absent_for


def teacher_parts(feedback):
    return [p for p in feedback.parts if p["kind"] == "teacher"]


def test_sentences_come_from_this_teacher_at_the_predicted_score(course, held_out, assignment):
    seen_scores = set()
    for text, score in held_out[:40]:
        fb = compose_feedback(text, score, {}, assignment, course, max_sentences=3)
        parts = teacher_parts(fb)
        assert parts, f"no teacher sentence for a score-{score} essay"
        tiers = [p["evidence"]["tier"] for p in parts]
        assert tiers == sorted(tiers), "same-score sentences must come before adjacent ones"
        for p in parts:
            ev = p["evidence"]
            source = course[ev["example"]]
            assert p["text"] in source.comment                      # verbatim, nothing invented
            assert abs(source.score - score) == ev["tier"] <= 1
            assert p["text"] in VOICE[int(source.score)]
            assert p["text"] in fb.text
        # this course has plenty of comments at every score: all from the same score band, unless
        # this essay's measurements disprove some of them ("Quote the article ..." to an essay
        # that quotes it)
        absent = absent_for(text, course, assignment)
        if sum(1 for ex in course if ex.score == score) >= 5 and not any(
                disproved(s, absent) for s in VOICE[score]):
            assert set(tiers) == {0}
        seen_scores.add(score)
    assert len(seen_scores) >= 4


def test_no_greetings_names_quotes_or_sign_offs_travel(course, held_out, assignment):
    for text, score in held_out[:25]:
        fb = compose_feedback(text, score, {}, assignment, course, max_sentences=4)
        for p in teacher_parts(fb):
            assert not re.search(r"\bHi\b|Okafor|You wrote|\"", p["text"])
            assert not any(name in p["text"] for name in NAMES)


def test_no_sentence_is_repeated(course, held_out, assignment):
    for text, score in held_out[:15]:
        fb = compose_feedback(text, score, {}, assignment, course, max_sentences=4)
        texts = [p["text"] for p in teacher_parts(fb)]
        assert len(texts) == len(set(texts))
        # 4, unless this essay's measurements disprove some of the course's sentences (`disproved`)
        if not any(disproved(s, absent_for(text, course, assignment)) for band in VOICE.values() for s in band):
            assert len(texts) == 4
        else:
            assert len(texts) >= 3


def test_adjacent_score_fills_in_when_the_score_has_too_little(course, held_out, assignment):
    # Only two reusable sentences exist at score 4: the rest must come from 3 or 5.
    thin = [ex if ex.score != 4 else ex._replace(
        comment="Good job! Quote the article directly at least once to make the "
                "evidence stronger. Use transitions between paragraphs so your organization "
                "feels smoother.") for ex in course]
    # an essay that neither quotes nor opens sentences on transitions: both sentences apply
    text = next(t for t, s in held_out if s == 4
                and not {"absent:quotes", "absent:transitions"} & set(absent_for(t, course, assignment)))
    fb = compose_feedback(text, 4, {}, {**assignment, "id": 201}, thin, max_sentences=4)
    parts = teacher_parts(fb)
    assert [p["evidence"]["tier"] for p in parts] == [0, 0, 1, 1]
    assert {thin[p["evidence"]["example"]].score for p in parts[2:]} <= {3, 5}


def test_the_most_similar_essay_comes_first(course, held_out, assignment):
    """A comment on a near-copy of this essay outranks comments on unrelated essays."""
    text, score = next((t, s) for t, s in held_out if s == 3)
    twin = " ".join(text.split()[:-5])            # the same essay, slightly cut
    unique = "Your second reason about shadows on the mesa deserves its own paragraph."
    examples = list(course) + [GradedExample(twin, 3, {}, unique)]
    fb = compose_feedback(text, 3, {}, {**assignment, "id": 202}, examples, max_sentences=2)
    first = teacher_parts(fb)[0]
    assert first["text"] == unique
    assert first["evidence"]["example"] == len(examples) - 1
    assert first["evidence"]["similarity"] > 0.9


def test_sentences_about_what_this_essay_needs_are_preferred(course, held_out, assignment):
    """A long, quoted, paragraphed essay whose only measured problem is spelling gets the
    teacher's same-score sentence about spelling/conventions first."""
    text = max((t for t, s in held_out if s >= 5), key=lambda t: (t.count("\"") >= 2, len(t)))
    typos = {"because": "becuase", "their": "thier", "believe": "beleive", "which": "wich",
             "would": "woud", "there": "ther"}
    messy = re.sub(r"\b(" + "|".join(typos) + r")\b", lambda m: typos[m.group(1)], text)
    fb = compose_feedback(messy, 2, {}, assignment, course, max_sentences=2)
    issues = {p["evidence"]["issue"] for p in fb.parts if p["kind"] != "teacher"}
    assert "conventions" in issues
    first = teacher_parts(fb)[0]
    assert "conventions" in first["evidence"]["aspects"] and first["evidence"]["tier"] == 0
    spelled = next(p for p in fb.parts if p["kind"] == "spelling")["evidence"]["words"]
    assert {w.lower() for w in spelled} >= {v for k, v in typos.items() if re.search(rf"\b{k}\b", text)}


def test_reusable_sentences_filter():
    essay = "The Face on Mars is just a mesa because the shadows made it look like a face."
    comment = ("Hi Sam, your claim is clear and you use the article. Great job! "
               "Maria, you need more evidence here. "
               'You wrote "the shadows made it look" which is a good point. '
               "I liked how the shadows made it look like a face in your intro. "
               "Your second paragraph repeats the first one. "
               "See Mr. Brown for help with citations. "
               "Add one more reason from the article to support your claim.")
    kept = reusable_sentences(comment, essay, frozenset({"face", "mars"}))
    assert kept == ["your claim is clear and you use the article.",
                    "Add one more reason from the article to support your claim."]
    assert all(k in comment for k in kept)
