"""Teacher criticism that this essay's own measurements disprove is never reused for it.

A real score-3 essay with no lower-case "i", opening sentences on "However", "Finally",
"Therefore" and "Also", was told "The paragraphs are in a sensible order, but transitions between
them are missing. Watch spelling and the use of lower-case i."
"""
from __future__ import annotations

import pytest

from worker.feedback.compose import compose_feedback
from worker.feedback.disproved import absent_faults, disproved, faults_claimed, transition_starts
from worker.feedback.spelling import misspelled
from worker.feedback.textstats import measure

TRANSITIONS_MISSING = "The paragraphs are in a sensible order, but transitions between them are missing."
LOWER_I = "Watch spelling and the use of lower-case i."
WALKTHROUGH = (f"Hi Sam, {TRANSITIONS_MISSING} {LOWER_I} Explain how each piece of evidence proves the "
               "Face is a landform instead of only listing it.")


@pytest.mark.parametrize("sentence, faults", [
    (TRANSITIONS_MISSING, {"transitions"}),
    (LOWER_I, {"lower_i", "spelling"}),
    ("Remember to capitalize the pronoun I every time.", {"lower_i"}),
    ("Use transitions between paragraphs so your organization feels smoother.", {"transitions"}),
    ("Break your writing into paragraphs with one idea in each.", {"paragraphs"}),
    ("Your essay is one big paragraph, which makes it hard to follow.", {"paragraphs"}),
    ("Many spelling and capitalization mistakes make this hard to read, so proofread slowly.", {"spelling"}),
    ("A few spelling errors remain, so check your conventions before you submit.",
     {"spelling", "few_errors"}),
    ("Watch your conventions: spelling errors and run-on sentences get in the way.", {"spelling", "run_ons"}),
    ("Quote the article directly at least once to make the evidence stronger.", {"quotes"}),
    ("You need a quote from the article to back up your claim.", {"quotes"}),
    # asking for more, or praising, claims nothing is missing
    ("Your essay needs more transitions between the body paragraphs.", set()),
    ("Vary your transitions so the reader does not hear However five times.", set()),
    ("Good use of transitions and a clear order of reasons.", set()),
    ("Use more quotations from the article, not just one.", set()),
    # praise of spelling claims no fault, only that the errors are few (test_errors_made_small.py)
    ("Your spelling is nearly flawless and there are no run-ons.", {"few_errors"}),
    ("There are few spelling errors in this essay.", {"few_errors"}),
    ("Your paragraphs need topic sentences so the organization is easier to follow.", set()),
    ("Add one paragraph for each reason you give.", set()),
    ("Proofread for capitalization, especially names like Mars and NASA.", set()),
])
def test_which_measured_fault_a_teacher_sentence_claims(sentence, faults):
    assert faults_claimed(sentence) == faults


def _absent(text: str, course_words=frozenset()) -> dict:
    return absent_faults(text, measure(text), misspelled(text, course_words))


CLEAN = ("The Face on Mars is a natural landform. However, some people think aliens made it.\n\n"
         "First, the photos from 1998 show a mesa. Also, the shadows made the eyes and the mouth.\n\n"
         "Therefore, the Face is only a hill. Finally, as the article says, \"it is just a butte\" "
         "and nothing more.")
SLOPPY = ("the face on mars was made by aliens i think becuase it look like a face and i saw it "
          "in the picture and it has eyes and a nose and a mouth and people say it is real and "
          "nasa is hiding it from us and that is what i belive about the face on mars")


def test_measurements_that_disprove_each_fault():
    assert transition_starts(CLEAN) == (5, 5)
    clean = _absent(CLEAN)
    for sentence in (TRANSITIONS_MISSING, LOWER_I, "Break your writing into paragraphs.",
                     "Avoid run-on sentences.", "Quote the article directly at least once."):
        assert disproved(sentence, clean), sentence
    sloppy = _absent(SLOPPY)
    for sentence in (TRANSITIONS_MISSING, LOWER_I, "Break your writing into paragraphs.",
                     "Avoid run-on sentences.", "Quote the article directly at least once."):
        assert not disproved(sentence, sloppy), sentence
    # two transitions are not "uses transitions"; one sentence opener said twice is not variety
    assert "absent:transitions" not in _absent("However, it is a hill. The end. However, it is rock.")


def _walkthrough_course(course):
    return [ex._replace(comment=WALKTHROUGH) if ex.score == 3 else ex for ex in course]


def test_a_real_essay_is_not_told_of_faults_it_does_not_have(course, held_out, assignment):
    examples = _walkthrough_course(course)
    checked = 0
    for text, _ in held_out:
        stats = measure(text)
        uses, kinds = transition_starts(text)
        if stats.lower_i or uses < 3 or kinds < 2:
            continue
        fb = compose_feedback(text, 3, {}, {**assignment, "id": 901}, examples, generator=False)
        teacher = [p["text"] for p in fb.parts if p["kind"] == "teacher"]
        assert teacher, fb.text                       # the rest of the comment still travels
        assert TRANSITIONS_MISSING not in teacher and LOWER_I not in teacher, fb.text
        checked += 1
    assert checked >= 5


def test_the_same_sentences_still_reach_an_essay_that_has_the_faults(course, held_out, assignment):
    examples = _walkthrough_course(course)
    text = next(t for t, _ in held_out if measure(t).lower_i and transition_starts(t)[0] == 0
                and measure(t).n_paragraphs > 1)
    fb = compose_feedback(text, 3, {}, {**assignment, "id": 902}, examples, generator=False)
    teacher = [p["text"] for p in fb.parts if p["kind"] == "teacher"]
    assert TRANSITIONS_MISSING in teacher and LOWER_I in teacher, fb.text
