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
from worker.feedback.own_content import names_content, pointed_at, reusable
from worker.feedback.records import AssignmentView, GradedExample
from worker.feedback.textstats import words

from .conftest import PROMPT, read_rows

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
# The same wordings about the writing, the argument or the article: every one stays reusable. Each
# is put on an essay that uses the words it points at, as a teacher would write it: a remark on
# the opposing view is written on the essay that answers it, and says "view" because that essay
# does (a review found five such remarks dropped on 10 to 30 of the 300 essays).
COUNTER = ("A counterargument is that aliens built it. For example, one counterclaim is the eyes, "
           "but the counterclaims fall apart.")
EVIDENCE = "My evidence is the photo, and my claim is that it is a landform."
OPPOSING = ("In this discussion the opposing view is that aliens carved it. For example, they "
            "point to the nose, but that view has no proof.")
WRITING = [
    ("The part where you talk about the counterargument is convincing.", COUNTER),
    ("The part where you talk about the evidence needs a quotation.", EVIDENCE + " Here is a quotation."),
    ("The part where you talk about the shadows is convincing.", "The shadows made it look like eyes."),
    ("Your example is strong.", "For example, a mesa in Idaho looks the same."),
    ("Your examples are specific and well chosen.", "Two examples are the mesa and the butte."),
    ("Your example of a counterclaim is handled fairly.", COUNTER),
    ("Your example of a personal experience makes the point real.",
     "For example, a personal experience: I once saw a face in a cloud."),
    ("Your example of the Viking photo is well chosen.", "For example, the Viking photo was blurry."),
    ("The section on counterclaims needs one more reason.", COUNTER),
    ("The section on evidence needs more detail.", EVIDENCE),
    ("The section on your main idea should come first.", "My main idea is that the Face is natural."),
    ("The section on the Mars Global Surveyor photos needs a quote.",
     "The Mars Global Surveyor took new photos."),
    ("When you talk about the evidence, explain how it supports your claim.", EVIDENCE),
    ("When you describe your reasons, use a transition for each one.", "I have three reasons."),
    ("When you describe the landform, use the article's words.", "The landform is a mesa."),
    ("When you discuss the counterargument, answer it with a fact.", COUNTER),
    ("When you explain the resolution of the cameras, add the years.",
     "The cameras had better resolution in later years."),
    ("When you tell the reader why, the argument is strongest.", "Dear reader, my argument is simple."),
    ("The story of your argument is easy to follow from the hook to the end.", "My argument is simple."),
    ("The story of how NASA took the pictures is clear.", "NASA took the pictures again."),
    ("The part where you explain your reasoning is the clearest.", "My reasoning is the shadows."),
    ("Your description is vivid and precise.", "My description of the Face is a butte."),
    ("Your discussion of the opposing view is fair.", OPPOSING),
    ("Your discussion of the mesa in Idaho is precise.", "For discussion, a mesa in Idaho looks the same."),
    ("The part about your opinion needs a reason.", "My opinion is that it is natural, for one reason."),
    ("The example in your second body paragraph needs explaining.", "In the body of my essay I explain it."),
    ("The story you tell in the introduction hooks the reader.", "In my introduction I tell a story."),
    ("Your story is engaging and your tone fits the audience.", "This story has a serious tone."),
    ("You tell a vivid story about the landform and then explain it.", "The story of the landform is vivid."),
    ("Describe each piece of evidence before you explain it.", EVIDENCE),
    ("Your example of the opposing view is answered well.", OPPOSING),
    ("When you explain the theory, give a fact from the article.",
     "The alien theory is wrong, and one fact proves it."),
    ("Your example of cause and effect is clear.", "For example, the cause is erosion and the effect is a face."),
    ("Your example of a rhetorical question works well as a hook.",
     "For example, a rhetorical question: would aliens carve a face?"),
    ("The section on the other side of the argument needs a rebuttal.",
     "People on the other side say aliens did it, but that argument is weak."),
    ("The paragraph on your second reason needs evidence.", "My second reason is the shadows."),
]


@pytest.fixture(scope="module")
def index(course):
    """The tests' course, plus one essay per remark above, graded 4 with that remark as its comment."""
    remarks = CONTENT + WRITING
    extra = [GradedExample(f"{course[i].text} {story}".strip(), 4, {}, remark)
             for i, (remark, story) in enumerate(remarks)]
    return course_index(course + extra, AssignmentView.of(
        {"id": 744, "prompt": PROMPT, "score_min": 1, "score_max": 6, "traits": []}), None)


@pytest.mark.parametrize("remark", [s for s, _ in CONTENT])
def test_a_remark_about_one_students_content_is_not_reused_in_any_wording(index, remark):
    assert remark not in {c.text for c in reusable(index)}


@pytest.mark.parametrize("remark", [s for s, _ in WRITING])
def test_the_same_wordings_about_the_writing_are_reused(index, remark):
    assert remark in {c.text for c in index.candidates}      # passes the other guards
    assert remark in {c.text for c in reusable(index)}


@pytest.mark.parametrize("remark, says", WRITING)
def test_each_writing_remark_sits_on_an_essay_that_uses_its_words(remark, says):
    """Else the test above cannot see a writing word taken for one essay's content."""
    essay = {w.lower() for w in words(says)}
    assert set(pointed_at(remark)) <= essay, set(pointed_at(remark)) - essay


def test_the_course_teachers_sentences_all_stay(course, index):
    ours = [c for c in index.candidates if c.example < len(course)]
    assert [c for c in reusable(index) if c.example < len(course)] == ours and len(ours) > 500


def test_an_ordinal_counts_the_writing_where_few_essays_use_it(shared_data):
    """"the paragraph on your second reason": on a distance-learning course, where "second" is
    rarer than on the Face-on-Mars one, it was taken for a thing of the essay that says it."""
    rows = read_rows(shared_data, "train", "13")[:300]
    course = [GradedExample(r["full_text"], int(r["holistic_essay_score"]), {}, "Good work.") for r in rows]
    index = course_index(course, AssignmentView.of(
        {"id": 745, "prompt": "Do students benefit from distance learning?", "score_min": 1,
         "score_max": 6, "traits": []}), None)
    essay = f"{course[0].text} My second reason is that students need their friends."
    assert not names_content(index, "The paragraph on your second reason needs evidence.", essay)
