"""Imported comments (last year's export, a course copy) name people who are not on this course's
roster: none of their names may reach this year's students, and their ordinary sentences still travel."""
from __future__ import annotations

import pytest

from .conftest import PROMPT
from worker.feedback.comments import course_proper_nouns, prompt_ngram_set, reusable_sentences
from worker.feedback.compose import compose_feedback
from worker.feedback.records import GradedExample, GradedExamples
from worker.feedback.textstats import words

OTHER_ESSAY = "The Face on Mars is a mesa and the article shows why with photos from Viking."
# Last year's students were called Grace, Will, Mark, Hope...: words this course uses too.
KNOWN = frozenset(w.lower() for w in words(
    PROMPT + " grace will mark hope may rose summer faith hunter group told job essay year last work"))
# Essays of a small four-day-week course.
BASE = ("A four-day school week would give students more time to rest and to spend time with their "
        "families, but some parents would struggle to find childcare on the fifth day. ")
FOUR_DAY_WEEK = {"id": 703, "prompt": "Should students have a four-day week?", "score_min": 1, "score_max": 6,
                 "traits": []}


@pytest.fixture(scope="module")
def proper(course):
    """What the Face-on-Mars course writes capitalised: Mars, NASA, Viking, Cydonia..."""
    return course_proper_nouns([ex.text for ex in course], PROMPT)


def _kept(sentence: str, proper_nouns=None) -> list[str]:
    return reusable_sentences(sentence, OTHER_ESSAY, KNOWN, prompt_ngram_set(PROMPT), proper_nouns=proper_nouns)


ABOUT_LAST_YEARS_STUDENTS = [
    "Grace needs to add more evidence for each of her claims about the landform.",
    "Will should explain how the photos prove the Face is a mesa.",
    "Great job on the evidence from the article, Hope!",
    "As I told Mark's group, the conclusion should restate your claim.",
    "Mark\u2019s group had the same problem with evidence from the article.",
    "Summer used the article well but the conclusion is thin.",
    "Work with Rose on the transitions between your paragraphs.",
    "Grace: add more evidence from the article for each reason.",
    "Your reasons are clear; Faith should do the same in her essay.",
    "Your evidence is strong, much like Hunter's essay last year.",
    "grace, use more evidence from the article for each reason.",
]


@pytest.mark.parametrize("sentence", ABOUT_LAST_YEARS_STUDENTS)
def test_imported_sentences_naming_people_off_the_roster_are_dropped(sentence, proper):
    assert not _kept(sentence, proper)


def test_the_roster_guard_alone_let_most_of_them_through():
    """Why the stricter rule: with no roster name to match, these were reused verbatim."""
    assert len([s for s in ABOUT_LAST_YEARS_STUDENTS if _kept(s)]) >= 8


@pytest.mark.parametrize("sentence", [
    "Your claim is clear.",
    "Add a second source.",
    "The conclusion restates the claim in a fresh way.",
    "Evidence is precise, and the counterargument is handled with care.",
    "Transitions are missing between your body paragraphs.",
    "Will this evidence convince a reader who believes in aliens?",
    "Mark each piece of evidence from the article as you read it again.",
    "Use the Viking photos from the article as evidence for the landform.",
    "The 2001 images from the Mars Global Surveyor are your strongest evidence.",
    "Explain why NASA took more photos of Cydonia in 1998 and 2001.",
    "Remember: every reason needs evidence from the article.",
    "I hope you mark each claim that the article may support in your next draft.",
])
def test_ordinary_imported_sentences_stay(sentence, proper):
    assert _kept(sentence, proper) == [sentence]


def test_the_demo_imports_comments_lose_no_sentence(proper):
    """`gradeloop run` imports these comments (lti_app/demo.py): a teacher's import of nameless
    comments keeps every sentence the roster guard kept."""
    from lti_app.demo import COMMENTS

    for comment in (c for bank in COMMENTS.values() for c in bank):
        assert _kept(comment, proper) == _kept(comment)


def test_imported_comments_on_real_essays_keep_their_voice_and_lose_the_names(course, held_out, assignment):
    """300 real graded essays whose comments came in by import, each also saying "Grace needs ...":
    this year's students get as many teacher sentences as before, none naming Grace."""
    leaky = [ex._replace(comment=f"{ex.comment} Grace needs to explain each piece of evidence more fully.",
                         outside_roster=True) for ex in course]
    clean = [ex._replace(outside_roster=True) for ex in course]
    for text, score in held_out[:10]:
        fb = compose_feedback(text, score, {}, {**assignment, "id": 701}, leaky, max_sentences=4)
        teacher = [p["text"] for p in fb.parts if p["kind"] == "teacher"]
        assert teacher and not any("Grace" in t for t in teacher)
        plain = compose_feedback(text, score, {}, {**assignment, "id": 702}, clean, max_sentences=4)
        assert len(teacher) == len([p for p in plain.parts if p["kind"] == "teacher"])


def test_the_roster_names_reach_the_cached_index():
    """`compose_feedback` builds the course index through the cache: the roster's names must
    survive the trip ("Mark needs ..." about this course's Mark)."""
    examples = GradedExamples([GradedExample(BASE + f"Essay {i} adds an example about sports and the mark.", 3, {},
                                             "Mark needs more evidence about rest and homework. "
                                             "Add a second source about childcare costs.") for i in range(8)],
                              cache_key=(703, 8, 8), names=frozenset({"mark"}))
    fb = compose_feedback(BASE + "My own example is about music lessons.", 3, {}, FOUR_DAY_WEEK, examples,
                          generator=False)
    assert "Add a second source" in fb.text and "Mark" not in fb.text, fb.text


def _assignment(db):
    from tests.worker.coursework import make_assignment

    return make_assignment(title="Four-day week", score_min=1, score_max=6, traits=[],
                           prompt=FOUR_DAY_WEEK["prompt"])


def test_last_years_export_imported_does_not_name_its_students_this_year(make_app):
    """The whole path: last year's export imported as a CSV (`import_rows`, source IMPORT), loaded
    for feedback, composed for this year's essay."""
    from lti_app.coursework.imports import import_rows
    from lti_app.extensions import db
    from worker.feedback.loading import load_graded_examples

    with make_app().app_context():
        assignment = _assignment(db)
        rows = [{"text": BASE + f"Essay number {i} adds its own example about sports and homework.",
                 "score": 3, "trait_scores": {}, "group": None,
                 "comment": "Grace needs to add more evidence for each of her claims about rest and homework. "
                            "Add a second source about childcare costs."}
                for i in range(8)]
        import_rows(assignment, rows, None)
        db.session.commit()
        examples = load_graded_examples(assignment.id)
        assert all(ex.outside_roster for ex in examples)
        fb = compose_feedback(BASE + "My own example is about music lessons.", 3, {}, assignment, examples,
                              generator=False)
    assert "Add a second source about childcare costs." in fb.text and "Grace" not in fb.text, fb.text


def test_only_grades_about_people_off_the_roster_are_marked(make_app):
    """A teacher's grade of a student's essay here is checked against the roster as before; a
    teacher's regrade of an imported essay (no student here) is not about this roster's people."""
    from lti_app.extensions import db
    from lti_app.models import Grade, GradeSource, Submission, User
    from worker.feedback.loading import load_graded_examples

    with make_app().app_context():
        assignment = _assignment(db)
        student = User(platform_id=1, sub="s1", name="Ana Lee")
        db.session.add(student)
        db.session.flush()
        own = Submission(assignment_id=assignment.id, user_id=student.id, text="My essay about rest.")
        imported = Submission(assignment_id=assignment.id, user_id=None, text="Last year's essay about rest.")
        db.session.add_all([own, imported])
        db.session.flush()
        for sub in (own, imported):
            db.session.add(Grade(submission_id=sub.id, score=3, source=GradeSource.TEACHER, score_min=1,
                                 score_max=6, trait_scores={}, comment="Add a second source."))
        db.session.commit()
        marked = {ex.text: ex.outside_roster for ex in load_graded_examples(assignment.id)}
    assert marked == {"My essay about rest.": False, "Last year's essay about rest.": True}
