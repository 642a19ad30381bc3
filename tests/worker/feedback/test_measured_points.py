"""Measured points about THIS essay: exact counts on constructed essays, compared with the
course's real essays graded higher; nothing generic when there is nothing specific to say."""
from __future__ import annotations

import re

from worker.feedback.compose import EMPTY_TEXT, NOT_ENGLISH_TEXT, compose_feedback
from worker.feedback.records import GradedExample

WORD = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)*")   # the words key terms are matched on
MEASURED = {"length", "paragraphs", "spelling", "mechanics", "sentences", "evidence"}
PRAISE = re.compile(r"\b(great|good job|well done|excellent|nice work|awesome|strong)\b", re.I)

LONG = ("The face is only a hill and the light made dark shadows that look like two eyes and a "
        "mouth and a nose so many people thought that it was built by aliens long ago but the "
        "new photos from the camera show that it is just a natural hill on the ground.")
SENTENCES = [
    "i think the face on Mars is a natural landform.",
    "NASA took new photos and i looked at them with care.",
    "The photos show a mesa and not a building made by aliens becuase the shadows were gone.",
    LONG,
    "Scientists did not recieve any signal from thier cameras that showed a city.",
    "A landform like this one can be found in many places on our own planet.",
    "The first picture was taken in a bad light and it was very blurry.",
    "Later pictures were sharper and they showed every rock on the hill.",
    "So the face is a trick of light and shadow and nothing more than that.",
]


def n_words(text: str) -> int:
    """As the hand-in page counts them: the number a point states is the one the student sees."""
    return len(text.split())


def by_kind(feedback) -> dict:
    return {p["kind"]: p for p in feedback.parts}


def test_counts_for_a_constructed_one_paragraph_essay(course, assignment):
    essay = " ".join(SENTENCES)
    total = n_words(essay)
    assert len(LONG.split()) > 40 and total >= 120
    fb = compose_feedback(essay, 2, {}, assignment, course, max_points=6)
    parts = by_kind(fb)
    assert MEASURED <= set(parts) | {"sentences"}

    higher = [n_words(ex.text) for ex in course if ex.score > 2]
    longer = sum(1 for w in higher if w > total) / len(higher)
    length = parts["length"]
    assert length["evidence"]["words"] == total and length["evidence"]["compared"] == len(higher)
    assert length["evidence"]["percentile"] == round(100 * (1 - longer))
    q1, q3 = length["evidence"]["higher_q1"], length["evidence"]["higher_q3"]
    assert length["text"] == (f"This essay has {total} words; essays graded 3 or higher for this "
                              f"assignment usually have {q1}–{q3} words.")

    assert parts["paragraphs"]["evidence"]["paragraphs"] == 1
    assert parts["paragraphs"]["text"].startswith(f"The essay is a single paragraph of {total} words")

    assert parts["spelling"]["evidence"]["words"] == ["becuase", "recieve", "thier"]
    assert parts["spelling"]["text"] == "3 words look misspelled: becuase, recieve, thier."

    mech = parts["mechanics"]["evidence"]
    assert (mech["lower_i"], mech["lowercase_starts"], mech["doubled"]) == (2, 1, [])

    sent = parts["sentences"]["evidence"]
    assert sent["sentences"] == len(SENTENCES) and sent["run_ons"] == 1
    start = " ".join(LONG.split()[:6])
    assert f'the sentence starting "{start}\u2026" has {len(LONG.split())} words; try splitting it' \
        in parts["sentences"]["text"]

    ev = parts["evidence"]["evidence"]
    assert ev["quotes"] == 0 and set(ev["key_terms_used"]) == {"face", "mars", "landform",
                                                                "aliens", "natural", "nasa", "mesa"}


def test_paragraph_counts_and_a_very_long_paragraph(course, assignment):
    short = " ".join(SENTENCES[:2])
    long_par = " ".join([s for s in SENTENCES if s is not LONG] * 5)
    essay = f"{short}\n\n{long_par}"
    fb = compose_feedback(essay, 3, {}, assignment, course, max_points=6)
    par = by_kind(fb)["paragraphs"]["evidence"]
    assert par["paragraphs"] == 2
    assert par["paragraph_words"] == [n_words(short), n_words(long_par)]
    assert par["long_paragraphs"] == (1 if n_words(long_par) > par["long_limit"] else 0) == 1


def test_quotes_counted_and_independent_prompts_skip_source_use(course, assignment):
    quoted = ('The article says "the Face is a natural landform" and it also says "it was just '
              'a mesa" so NASA is right. ') * 3
    fb = compose_feedback(quoted, 3, {}, assignment, course)
    assert "evidence" not in by_kind(fb) or by_kind(fb)["evidence"]["evidence"]["quotes"] == 6
    independent = {**assignment, "id": 301, "prompt": "Should students be required to do "
                   "community service? Take a position."}
    fb = compose_feedback(" ".join(SENTENCES), 3, {}, independent, course)
    assert "evidence" not in by_kind(fb)


def test_no_comments_in_the_course_gives_only_measured_points(course, held_out, assignment):
    silent = [ex._replace(comment="") for ex in course]
    for text, score in held_out[:10]:
        fb = compose_feedback(text, score, {}, {**assignment, "id": 302}, silent)
        assert {p["kind"] for p in fb.parts} <= MEASURED
        assert all(line.startswith("- ") for line in fb.text.splitlines() if line)
        assert not PRAISE.search(fb.text)


def test_nothing_specific_means_nothing_said(assignment):
    """A clean, quoted, varied essay at the top score in a course without comments: no points."""
    essay = ("The Face on Mars is a natural landform, not a monument.\n\n"
             "When NASA photographed Cydonia again, the article says \"the picture actually shows "
             "the Martian equivalent of a butte or mesa\" and that settles it.\n\n"
             "Some people still believe aliens carved it. They point at the eyes and the mouth, "
             "yet these are only shadows that fall across the rock in the evening light.\n\n"
             "Sharper images show the truth. A landform like this is common in the American West.")
    examples = [GradedExample("The face is a mesa. It is natural.", 3, {}, ""),
                GradedExample("It is a landform made by wind over many years.", 4, {}, "")]
    fb = compose_feedback(essay, 6, {}, {**assignment, "id": 303}, examples)
    assert fb.parts == [] and fb.text == ""


def test_empty_essay_gets_one_factual_line_and_no_praise(course, trait_assignment):
    for body in ("", "   \n\n  ", None):   # symbols only: test_odd_submissions
        fb = compose_feedback(body, 5, {"evidence": 3}, trait_assignment, course)
        assert fb.text == EMPTY_TEXT and [p["kind"] for p in fb.parts] == ["empty"]
        assert not PRAISE.search(fb.text)


def test_an_essay_in_another_alphabet_is_not_told_nothing_was_received(course, trait_assignment):
    """Cyrillic or Chinese text has none of the A-Z words the measurements count: it was told "No
    essay text was received". It is told its teacher will read it; a few English words inside do
    not make it English, and an English essay with a Greek letter stays English."""
    for body in ("Лицо на Марсе - это естественная гора, а не работа инопланетян. Снимки это доказывают.",
                 "火星上的脸是一座自然形成的山。新的照片证明了这一点。",
                 "NASA сделала снимки: лицо на Марсе - это просто гора, созданная ветром и временем."):
        fb = compose_feedback(body, 3, {"evidence": 2}, trait_assignment, course)
        assert [p["kind"] for p in fb.parts] == ["not_english"] and fb.text == NOT_ENGLISH_TEXT
        assert not PRAISE.search(fb.text)
    english = compose_feedback("The Face on Mars is a natural landform, and the angle θ of the sun made the "
                               "shadows that look like eyes and a mouth to people on Earth.", 3,
                               {"evidence": 2}, trait_assignment, course)
    assert "not_english" not in [p["kind"] for p in english.parts]


def test_bad_score_is_rejected(course, assignment):
    import pytest

    for bad in (None, float("nan")):
        with pytest.raises(ValueError, match="predicted_score"):
            compose_feedback("Some text here.", bad, {}, assignment, course)


def test_max_points_keeps_the_most_severe_in_reading_order(course, assignment):
    essay = " ".join(SENTENCES)
    every = compose_feedback(essay, 2, {}, assignment, course, max_points=6, max_sentences=0)
    severity = {p["kind"]: p["evidence"]["severity"] for p in every.parts}
    assert len(severity) >= 4
    two = compose_feedback(essay, 2, {}, assignment, course, max_points=2, max_sentences=0)
    kinds = [p["kind"] for p in two.parts]
    assert len(kinds) == 2
    assert min(severity[k] for k in kinds) >= max(v for k, v in severity.items() if k not in kinds)
    assert kinds == [k for k in severity if k in kinds]          # same order as the full list


def test_odd_inputs_do_not_break_it(course, trait_assignment):
    """Huge, non-Latin and emoji text, junk trait scores, junk examples: no exception."""
    huge = (" ".join(SENTENCES) + "\n\n") * 300                   # ~100,000 characters
    fb = compose_feedback(huge, 3, {"evidence": "high", "organization": float("nan"),
                                    "conventions": 2, "voice": None}, trait_assignment, course)
    assert [p["evidence"]["trait"] for p in fb.parts if p["kind"] == "trait"] == ["conventions"]
    assert len(fb.text) < 5000
    odd = [GradedExample(None, 3, {"evidence": "x"}, None), GradedExample("Texte en français.", 2,
                                                                         None, "Très bien 👍")]
    fb = compose_feedback("Это эссе 🚀 about Mars, i think.", 2, {"evidence": 1},
                          {**trait_assignment, "id": 601}, odd)
    assert "trait" in fb.kinds()


def test_a_stub_gets_no_borrowed_praise(course, assignment):
    """A few words mis-scored as a 6 get the length fact, not a top essay's compliments."""
    fb = compose_feedback("The face is a mesa.", 6, {}, assignment, course)
    assert "teacher" not in fb.kinds() and not PRAISE.search(fb.text)
    ordered = sorted(n_words(ex.text) for ex in course)
    middle = {ordered[(len(ordered) - 1) // 2], ordered[len(ordered) // 2]}
    assert by_kind(fb)["length"]["text"] in {
        f"The essay has only 5 words; about half of the graded essays for this assignment have "
        f"more than {m} words."
        for m in middle}


def _quartiles(values: list[int]) -> tuple[int, int]:
    ordered = sorted(values)
    return ordered[round(0.25 * (len(ordered) - 1))], ordered[round(0.5 * (len(ordered) - 1))]


def test_a_length_inside_the_better_essays_middle_half_gets_no_length_advice(course, assignment):
    """An essay shorter than most essays graded higher, yet inside their middle half, is of a usual
    length for them: it was told "longer" all the same."""
    q1, median = _quartiles([n_words(ex.text) for ex in course if ex.score > 2])
    assert median - q1 > 10
    target = q1 + (median - q1) // 2
    pool = " ".join(SENTENCES * 20).split()
    body = [" ".join(pool[i:i + 60]) for i in range(0, target, 60)]
    essay = "\n\n".join(body)
    essay = " ".join(essay.split(" ")[:target + len(body) - 1])
    assert q1 < n_words(essay) < median
    assert "length" not in by_kind(compose_feedback(essay, 2, {}, assignment, course, max_points=6))
    shorter = " ".join(pool[:q1 - 20])
    told = by_kind(compose_feedback(shorter, 2, {}, assignment, course, max_points=6))["length"]
    assert told["evidence"]["words"] == q1 - 20


def test_the_stated_word_count_is_the_hand_in_pages(course, assignment):
    """Numbers and hyphenated words count as the hand-in page counts them ("551 words" in the
    feedback under "563 words" on the page)."""
    from lti_app.coursework.essay_text import word_count

    essay = " ".join(SENTENCES[:4]) + " In 1976 and 2001 the well-known photos were taken 25 years apart."
    fb = by_kind(compose_feedback(essay, 2, {}, assignment, course, max_points=6))
    assert fb["length"]["evidence"]["words"] == word_count(essay) != len(WORD.findall(essay))
    assert f"This essay has {word_count(essay)} words" in fb["length"]["text"]


def test_too_short_is_judged_on_the_count_it_states(course, assignment):
    """The check counted A-Z words and the sentence stated the page's count: 28 words with ten
    years among them were "only 28 words" though the limit is 25, and 18 words of hyphenated
    pairs (29 A-Z words) were not too short."""
    from worker.feedback.points import TOO_SHORT

    years = ("The face on Mars was photographed in 1976, 1998, 2001, 2003, 2005, 2007, 2009, 2011, "
             "2013 and 2015, and every photo shows a natural mesa with its shadows.")
    pairs = ("The so-called face is a well-known, low-lying, wind-worn, sun-lit, flat-topped, "
             "north-facing, dust-covered, rock-hard, odd-looking, sharp-edged hill on Mars.")
    assert len(WORD.findall(years)) < TOO_SHORT <= n_words(years)
    assert n_words(pairs) < TOO_SHORT <= len(WORD.findall(pairs))
    told = by_kind(compose_feedback(years, 2, {}, assignment, course))["length"]
    assert "only" not in told["text"] and not told["evidence"].get("too_short"), told
    told = by_kind(compose_feedback(pairs, 2, {}, assignment, course))["length"]
    assert told["text"].startswith(f"The essay has only {n_words(pairs)} words"), told
    assert told["evidence"]["too_short"]


def test_one_block_is_judged_on_the_count_it_states(course, assignment):
    """A single paragraph is "one block" from ONE_BLOCK_WORDS words as the page counts them, the
    count its sentence states."""
    from worker.feedback.points import ONE_BLOCK_WORDS

    hyphens = " ".join(["The so-called face is a well-known, wind-worn, flat-topped hill."] * 12)
    assert n_words(hyphens) < ONE_BLOCK_WORDS <= len(WORD.findall(hyphens))
    parts = by_kind(compose_feedback(hyphens, 2, {}, assignment, course, max_points=6))
    assert not parts.get("paragraphs", {"text": ""})["text"].startswith("The essay is a single paragraph")


def test_only_terms_most_better_essays_use_are_named_as_missing(course, assignment):
    """The prompt's terms were listed as missing by how common they were in the course, so words
    few good essays use were named too."""
    fb = by_kind(compose_feedback(" ".join(SENTENCES), 2, {}, assignment, course, max_points=6))
    named = fb["evidence"]["text"].split("Not used: ")[1].rstrip(".").lower().split(", ")
    higher = [{w.lower() for w in WORD.findall(ex.text)} for ex in course if ex.score > 2]
    assert named and all(sum(term in used for used in higher) >= len(higher) / 2 for term in named), named
    rare = [t for t in fb["evidence"]["evidence"]["key_terms"] if sum(t in used for used in higher) < len(higher) / 2]
    assert rare and not set(rare) & set(named)
