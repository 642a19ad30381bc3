"""What the measured points say to a student: topic words as key terms, names written as the
course writes them, each slip listed once, counts that read as plain English (found by a
reviewer reading real feedback)."""
from __future__ import annotations

import re

from worker.feedback.compose import compose_feedback
from worker.feedback.points import length, mechanics, paragraphs, sentences
from worker.feedback.records import AssignmentView, GradedExample
from worker.feedback.retrieval import CourseIndex, ExampleCounts
from worker.feedback.textstats import content_terms, measure

# Words of instructions and of essay writing, which students were told to use as "key terms".
INSTRUCTION = {"information", "write", "essay", "explain", "use", "using", "details", "support",
               "source", "article", "argue", "position", "claim", "evidence", "argumentative",
               "convince", "imagine", "someone", "time", "space", "plan", "avoid", "form", "found",
               "must", "multiple"}
# PERSUADE's assignments as students get them: topic sentences wrapped in instructions.
FACE_ON_MARS = ("You have read the article 'Unmasking the Face on Mars.' Imagine you are a scientist at "
                "NASA who is talking with someone who believes that the \"Face\" was created by aliens. "
                "Using information in the article, write an argumentative essay to convince someone "
                "that the \"Face\" is just a natural landform. Be sure to include claims to support "
                "your argument that the \"Face\" is a natural landform.")
CAR_FREE = ("Write an explanatory essay to inform fellow citizens about the advantages of limiting car "
            "usage. Your essay must be based on ideas and information that can be found in the passage "
            "set. Manage your time carefully so that you can read the passages; plan your response; "
            "write your response; and revise and edit your response. Be sure to use evidence from "
            "multiple sources; and avoid overly relying on one source. Your response should be in the "
            "form of a multiparagraph essay. Write your essay in the space provided.")


def test_key_terms_are_the_topics_words_not_the_instructions(course, assignment):
    """"Using information in the article, write an argumentative essay to convince someone ..."
    made "information" a key term the student was told to use."""
    assert content_terms(CAR_FREE) == ["fellow", "citizens", "advantages", "limiting", "usage"]
    terms = set(CourseIndex(course, AssignmentView.of({**assignment, "prompt": FACE_ON_MARS})).key_terms)
    assert not terms & INSTRUCTION, terms & INSTRUCTION
    assert {"face", "mars", "landform", "nasa", "aliens", "natural"} <= terms


def test_names_are_quoted_as_the_course_writes_them(course, assignment):
    """Key terms were quoted back in lower case ("mars", "nasa") even to a student who wrote them
    correctly; they read as the prompt and the better essays write them, whatever this essay did."""
    essay = ("i think the face on mars is a natural landform and not something that aliens made. "
             "nasa took new photos of it and they show a mesa. the shadows made it look like a face. "
             "later photos were sharper and showed that it is only a hill.")
    [ev] = [p for p in compose_feedback(essay, 2, {}, assignment, course, max_points=6).parts
            if p["kind"] == "evidence"]
    assert "Mars" in ev["text"] and "NASA" in ev["text"], ev["text"]
    assert not re.search(r"\b(mars|nasa|Nasa)\b", ev["text"]), ev["text"]
    assert re.search(r"\baliens\b", ev["text"]), ev["text"]        # a common noun stays as it is
    assert {"mars", "nasa"} <= set(ev["evidence"]["key_terms_used"])   # evidence stays lower case


def _volcano_course() -> tuple[list[GradedExample], dict]:
    three = "The volcano eruption buried Pompeii under ash."
    four = "The volcano eruption buried Pompeii and the whole town under ash."
    examples = [GradedExample(t, 5, {}, "") for t in (three, three, four, four)]
    examples += [GradedExample("It was a hot day and then it was over.", 1, {}, "")] * 2
    return examples, {"id": 801, "prompt": "Read the article about the volcano eruption in "
                      "the Roman town of Pompeii. Write an essay.", "score_min": 1, "score_max": 6}


def test_key_term_counts_are_whole_numbers_and_zero_reads_as_none():
    """Half the better essays use 3 of the terms and half 4: "typically use 3.5" is no count a
    student can reach, and "uses 0 of" reads badly."""
    examples, assignment = _volcano_course()
    fb = compose_feedback("The volcano was hot and loud.", 2, {}, assignment, examples, max_points=6)
    [ev] = [p for p in fb.parts if p["kind"] == "evidence"]
    assert ev["evidence"]["typical_key_terms"] == 3.5
    # Graded texts of one sentence each: the course asks for short answers (`points.work_noun`).
    assert ev["text"].startswith("It uses 1 of the prompt's key terms (volcano); answers graded 5 "
                                 "or higher typically use 4. Not used: "), ev["text"]
    assert "Pompeii" in ev["text"] and "pompeii" not in ev["text"]
    fb = compose_feedback("The mountain was hot and loud.", 2, {}, assignment, examples, max_points=6)
    [ev] = [p for p in fb.parts if p["kind"] == "evidence"]
    assert ev["text"].startswith("It uses none of the prompt's key terms; "), ev["text"]


def test_a_repeated_word_is_listed_once_and_a_paragraph_break_is_no_repeat():
    stats = measure("The the cat sat on the the mat. And and then THE THE end came.\n\n"
                    "As the article says in\n\nIn German Suburb, cars are rare.")
    assert stats.doubled_words == ["The the", "And and"]
    point = mechanics(stats)
    assert point["text"] == 'Typos: words are repeated: "The the", "And and".'
    assert mechanics(measure("We went to to the park."))["text"] == \
        'Typos: a word is repeated: "to to".'


def _counts(paragraphs_: int) -> ExampleCounts:
    return ExampleCounts(5, 400, paragraphs_, 100, 1, 5, 15.0)


def test_paragraph_ranges_name_what_they_count():
    """"essays graded 5 or higher here usually have 5–6" did not say 5–6 what; "5–5" is 5."""
    stats = measure("A first short paragraph here.\n\nA second short paragraph here.")
    said = paragraphs(stats, [_counts(n) for n in (5, 5, 6, 6)], "5")["text"]
    assert said == "The essay has 2 paragraphs; essays graded 5 or higher here usually have 5–6 paragraphs."
    said = paragraphs(stats, [_counts(5)] * 4, "5")["text"]
    assert said.endswith("usually have 5 paragraphs.")


def test_sentence_lengths_are_said_without_statistics_jargon():
    """"(12 ± 0.8 words)" is a mean and standard deviation, not something a grade-6 student reads."""
    words = "the face on mars is only a natural hill made of rock and dust".split()
    text = " ".join(" ".join(words[:n]).capitalize() + "." for n in (11, 12, 13, 11, 12, 13))
    said = sentences(measure(text))["text"]
    assert said == "Sentences: most sentences are about the same length (11–13 words).", said
    assert "±" not in said


def test_the_length_point_says_its_range_in_plain_words():
    """"their middle half runs 416–537 words" is statistics jargon for the quartiles, and "in this
    course" read as if classmates' grades were shown. Half of the better essays lie between the
    quartiles (two of these nine below 416, two above 537): the usual length for them. That 8 of
    9 are longer than 250 is not said (a ranking, `test_plain_points`)."""
    higher = [ExampleCounts(5, n, 5, 100, 1, 5, 15.0)
              for n in (230, 300, 416, 430, 450, 480, 537, 560, 700)]
    stats = measure(" ".join(["Five words go right here."] * 50))   # 250 words in sentences
    said = length(stats, higher, "5")["text"]
    assert said == ("This essay has 250 words; essays graded 5 or higher for this assignment "
                    "usually have 416–537 words."), said
    assert "middle half" not in said and "course" not in said
