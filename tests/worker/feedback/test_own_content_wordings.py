"""Teachers point at one student's content in many wordings, not only "your ..." / "about ...":
"your example of the hurricane", "the section on volcanoes", "the story of your dog", "the
paragraph where you describe the treehouse", "the part where you talk about going fishing". None
of these may reach another student; the same wordings about the writing ("the part where you
talk about the counterargument", "your example is strong", "the section on evidence") must.

Found in review: only "your"/"about" followed by a rare word was caught, so 12 of the 20 content
remarks below were still reused (the rest fell to other guards: a capitalised name, "you wrote").
Each remark is put on a real Face-on-Mars essay that tells that story, as a teacher would write it.
"""
from __future__ import annotations

import pytest

from worker.feedback.cache import course_index
from worker.feedback.own_content import reusable
from worker.feedback.records import AssignmentView, GradedExample

from .conftest import PROMPT

HURRICANE = "The hurricane flooded our street."
SKATEBOARD = "I go skateboarding at the park."
FAIR = "At the science fair I won a ribbon."
BICYCLE = "My bicycle broke on the hill."
TREEHOUSE = "Last summer I built a treehouse."
# (the teacher's remark, what the commented essay says of it)
CONTENT = [
    ("The part where you talk about skateboarding at the park is fun to read.", SKATEBOARD),
    ("The part where you talk about going fishing on the lake made me smile.",
     "Me and my cousin go fishing on the lake."),
    ("The part where you talk about how you built a treehouse is vivid.", TREEHOUSE),
    ("When you talk about the hurricane, slow down and add detail.", HURRICANE),
    ("Your example of the hurricane is powerful.", HURRICANE),
    ("Your example of skateboarding shows the point well.", SKATEBOARD),
    ("Your example of playing soccer makes the reason concrete.", "I love playing soccer with friends."),
    ("The section on volcanoes is the strongest part.", "I read about volcanoes in Hawaii."),
    ("The section on the science fair could be shorter.", FAIR),
    ("The section about the robotics club needs a topic sentence.", "I joined the robotics club."),
    ("The story of your dog getting lost is moving.", "My dog got lost once."),
    ("The story of the hurricane is vivid.", HURRICANE),
    ("The story about the broken bicycle works well as a hook.", BICYCLE),
    ("The paragraph where you describe the hurricane is vivid.", HURRICANE),
    ("Your description of the science fair adds voice.", FAIR),
    ("Your discussion of the volcano in Hawaii is well organized.", "The volcano erupted near our town."),
    ("The bit about the volcano is great.", "The volcano erupted near our town."),
    ("Your anecdote about the broken bicycle works.", BICYCLE),
    ("When you describe the treehouse, the reader can picture it.", TREEHOUSE),
    ("When you tell the story of the hurricane, the argument is strongest.", HURRICANE),
]
# The same wordings about the writing or the article: every one stays reusable.
WRITING = [
    "The part where you talk about the counterargument is convincing.",
    "The part where you talk about the evidence needs a quotation.",
    "The part where you talk about the shadows is convincing.",
    "Your example is strong.",
    "Your examples are specific and well chosen.",
    "Your example of a counterclaim is handled fairly.",
    "Your example of a personal experience makes the point real.",
    "Your example of the Viking photo is well chosen.",
    "The section on counterclaims needs one more reason.",
    "The section on evidence needs more detail.",
    "The section on your main idea should come first.",
    "The section on the Mars Global Surveyor photos needs a quote.",
    "When you talk about the evidence, explain how it supports your claim.",
    "When you describe your reasons, use a transition for each one.",
    "When you describe the landform, use the article's words.",
    "When you discuss the counterargument, answer it with a fact.",
    "When you explain the resolution of the cameras, add the years.",
    "When you tell the reader why, the argument is strongest.",
    "The story of your argument is easy to follow from the hook to the end.",
    "The story of how NASA took the pictures is clear.",
    "The part where you explain your reasoning is the clearest.",
    "Your description is vivid and precise.",
    "Your discussion of the opposing view is fair.",
    "Your discussion of the mesa in Idaho is precise.",
    "The part about your opinion needs a reason.",
    "The example in your second body paragraph needs explaining.",
    "The story you tell in the introduction hooks the reader.",
    "Your story is engaging and your tone fits the audience.",
    "You tell a vivid story about the landform and then explain it.",
    "Describe each piece of evidence before you explain it.",
]


@pytest.fixture(scope="module")
def index(course):
    """The tests' course, plus one essay per remark above, graded 4 with that remark as its comment."""
    remarks = [(s, story) for s, story in CONTENT] + [(s, "") for s in WRITING]
    extra = [GradedExample(f"{course[i].text} {story}".strip(), 4, {}, remark)
             for i, (remark, story) in enumerate(remarks)]
    return course_index(course + extra, AssignmentView.of(
        {"id": 744, "prompt": PROMPT, "score_min": 1, "score_max": 6, "traits": []}), None)


@pytest.mark.parametrize("remark", [s for s, _ in CONTENT])
def test_a_remark_about_one_students_content_is_not_reused_in_any_wording(index, remark):
    assert remark not in {c.text for c in reusable(index)}


@pytest.mark.parametrize("remark", WRITING)
def test_the_same_wordings_about_the_writing_are_reused(index, remark):
    assert remark in {c.text for c in index.candidates}      # passes the other guards
    assert remark in {c.text for c in reusable(index)}


def test_the_course_teachers_sentences_all_stay(course, index):
    ours = [c for c in index.candidates if c.example < len(course)]
    assert [c for c in reusable(index) if c.example < len(course)] == ours and len(ours) > 500
