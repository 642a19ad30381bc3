"""Writing advice framed as "when/if you mention ..." is reusable; remarks on what one student
wrote are not.

`comments._YOU_WROTE` drops "you wrote/said/mention ..." as tied to the commented essay; it also
dropped advice any essay can use: "When you mention the article, quote it.", "If you state a
claim, back it up with a fact." A conditional frame with the present tense is advice on a move
(`comments._ADVICE_FRAME`); "you mentioned", "you wrote" and "if you say that ..." are one essay,
and a thing of one essay after "when you mention" is `own_content`'s. Each sentence is put on a
real Face-on-Mars essay that says what it points at, as a teacher would write it.
"""
from __future__ import annotations

import pytest

from worker.feedback.cache import course_index
from worker.feedback.own_content import reusable
from worker.feedback.records import AssignmentView, GradedExample

from .conftest import PROMPT

ARTICLE = "The article says the Face is a mesa, and a source like NASA is reliable."
FARM = "My grandmother has a farm with goats, and the goats taught me about nature."
LAKE = "Last summer I went kayaking on the lake with my uncle."
ADVICE = [
    ("When you mention the article, quote it.", ARTICLE),
    ("When you mention a source, name it.", ARTICLE),
    ("Whenever you mention a fact from the article, explain why it matters.", ARTICLE),
    ("If you mention the photos, give the year each was taken.", "The photos were taken later."),
    ("If you state a claim, back it up with a fact from the article.", ARTICLE),
    ("Each time you claim something, support it with evidence.", ARTICLE),
    ("Make sure you state your claim early, in the introduction.", "My claim is that it is natural."),
    ("Before you say the Face is natural, explain what a mesa is.", ARTICLE),
]
ONE_ESSAY = [
    ("You mention the article only once, so quote it again.", ARTICLE),
    ("You wrote that aliens built it, but the article disagrees.", ARTICLE),
    ("When you mentioned the article, you quoted it well.", ARTICLE),
    ("If you say that aliens made it, you need proof.", ARTICLE),
    ("You described the goats on the farm vividly.", FARM),
]
# The frame passes `comments`; what follows it is one essay's, and `own_content` holds it back.
CONTENT_AFTER_THE_FRAME = [
    ("When you mention the goats on your farm, connect them to the claim.", FARM),
    ("When you mention kayaking on the lake, explain how it relates to Mars.", LAKE),
]


@pytest.fixture(scope="module")
def index(course):
    """The tests' course, plus one essay per sentence above, graded 4 with it as its comment."""
    extra = [GradedExample(f"{course[i].text} {says}", 4, {}, sentence)
             for i, (sentence, says) in enumerate(ADVICE + ONE_ESSAY + CONTENT_AFTER_THE_FRAME)]
    return course_index(course + extra, AssignmentView.of(
        {"id": 746, "prompt": PROMPT, "score_min": 1, "score_max": 6, "traits": []}), None)


@pytest.mark.parametrize("advice", [s for s, _ in ADVICE])
def test_advice_on_mentioning_is_reused(index, advice):
    assert advice in {c.text for c in reusable(index)}


@pytest.mark.parametrize("remark", [s for s, _ in ONE_ESSAY])
def test_a_remark_on_what_one_student_wrote_is_not(index, remark):
    assert remark not in {c.text for c in reusable(index)}


@pytest.mark.parametrize("remark", [s for s, _ in CONTENT_AFTER_THE_FRAME])
def test_one_students_content_after_the_frame_is_not_reused(index, remark):
    assert remark in {c.text for c in index.candidates}
    assert remark not in {c.text for c in reusable(index)}
