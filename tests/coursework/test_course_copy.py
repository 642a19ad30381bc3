"""A Gradeloop link copied into a new course (course copy, a new term): the first teacher launch
sets up a new assignment with the original's description filled in and its settings copied
and, for a teacher of both courses, brings the original's graded essays as training data
(anonymous, like a CSV import).
Students, grades and the gradebook column of the two courses stay apart."""
import re

import pytest

from lti_app.extensions import db
from lti_app.models import Assignment, Course, FeedbackMode, Grade, GradeSource, OutboxEvent, Submission
from lti_app.sandbox.forms import parse_forms
from tests.coursework.flows import ESSAYS, NEW_COURSE, graded_two_essays, link_copied, open_assignment, post_form


def test_copied_link_fills_in_the_original_and_brings_its_graded_essays(peer, tool_server):
    item = link_copied(peer, graded_two_essays(peer, tool_server))
    settings = {"feedback_mode": FeedbackMode.OFF, "min_graded": 40, "retrain_every": 7, "confidence_threshold": 0.8,
                "show_ai_label": False, "allow_resubmit": False, "anonymous_grading": True,
                "blind_check": False}
    with tool_server.app.app_context():
        (original,) = db.session.scalars(db.select(Assignment)).all()
        for name, value in settings.items():
            setattr(original, name, value)
        db.session.commit()
    teacher, setup = open_assignment(peer, tool_server, role="Instructor", user_id="teacher-1",
                                     resource_link_id=item, course_id=NEW_COURSE)
    assert 'id="copied-from"' in setup.text and "Persuasive essay" in setup.text
    assert 'value="Persuasive essay (2027)"' in setup.text and "Should students have a four-day week?" in setup.text
    assert "cohesion 1-5" in setup.text and 'name="copy_essays"' in setup.text
    # A mistake in the form after unticking the copy: the page comes back with it still unticked.
    (form,) = [f for f in parse_forms(setup.text, setup.url) if "/setup" in f.action]
    unticked = {k: v for k, v in form.fields.items() if k != "copy_essays"}
    mistake = teacher.post(form.action, data={**unticked, "score_max": ""}, timeout=30)
    assert mistake.status_code == 400 and "Enter a whole number." in mistake.text
    assert 'name="copy_essays"' in mistake.text and not re.search(r'name="copy_essays"[^>]*checked', mistake.text)
    done = post_form(teacher, setup, action_contains="/setup")
    assert done.status_code == 200 and "Graded essays copied from" in done.text and "training data: 2." in done.text
    with tool_server.app.app_context():
        course = db.session.scalar(db.select(Course).filter_by(context_id=NEW_COURSE))
        copy = db.session.scalar(db.select(Assignment).filter_by(course_id=course.id))
        original = db.session.scalar(db.select(Assignment).where(Assignment.id != copy.id))
        assert copy.resource_id != original.resource_id and copy.traits == original.traits
        assert {name: getattr(copy, name) for name in settings} == settings
        rows = db.session.execute(db.select(Submission, Grade).join(Grade, Grade.submission_id == Submission.id)
                                  .where(Submission.assignment_id == copy.id)).all()
        assert sorted((s.text, g.score) for s, g in rows) == sorted(
            (text, float(score)) for _, text, score in ESSAYS.values())
        assert all(s.user_id is None and g.source == GradeSource.IMPORT and g.comment == ""
                   and g.trait_scores == {"cohesion": 3} for s, g in rows)
        due = [e.payload["payload"] for e in db.session.scalars(db.select(OutboxEvent).filter_by(type="training.due"))]
        assert {"assignment_id": copy.id, "reason": "course_copy"} in due
        # The original course keeps its own essays, with their students.
        assert db.session.scalar(db.select(db.func.count(Submission.id)).where(
            Submission.assignment_id == original.id, Submission.user_id.is_not(None))) == 2


def test_a_copy_of_a_copy_brings_last_terms_essays_and_settings(peer, tool_server):
    """The LMS copies a link's custom parameters unchanged, so term 3's link, copied from term 2's,
    still names term 1's assignment: term 2's grades and settings were never offered."""
    item = graded_two_essays(peer, tool_server)
    term2 = link_copied(peer, item)
    teacher, setup = open_assignment(peer, tool_server, role="Instructor", user_id="teacher-1",
                                     resource_link_id=term2, course_id=NEW_COURSE)
    assert "training data: 2." in post_form(teacher, setup, action_contains="/setup").text
    with tool_server.app.app_context():   # term 2: one more graded essay, a stricter threshold
        course = db.session.scalar(db.select(Course).filter_by(context_id=NEW_COURSE))
        copy = db.session.scalar(db.select(Assignment).filter_by(course_id=course.id))
        copy.confidence_threshold = 0.85
        essay = Submission(assignment_id=copy.id, text="Graded in the second term only.", word_count=6)
        db.session.add(essay)
        db.session.flush()
        db.session.add(Grade(submission_id=essay.id, score=4, source=GradeSource.TEACHER, score_min=1, score_max=6))
        db.session.commit()
    peer.add_resource_link("course-2028", "rl-term3", title="Persuasive essay (2028)", custom=dict(item["custom"]))
    teacher, setup = open_assignment(peer, tool_server, role="Instructor", user_id="teacher-1",
                                     resource_link_id="rl-term3", course_id="course-2028")
    done = post_form(teacher, setup, action_contains="/setup")
    assert "training data: 3." in done.text, done.text[:600]
    with tool_server.app.app_context():
        course = db.session.scalar(db.select(Course).filter_by(context_id="course-2028"))
        assert db.session.scalar(db.select(Assignment).filter_by(course_id=course.id)).confidence_threshold == 0.85


def test_only_a_teacher_of_the_original_may_bring_its_essays(peer, tool_server):
    item = link_copied(peer, graded_two_essays(peer, tool_server))
    with tool_server.app.app_context():   # an assignment made before a prompt was required
        db.session.scalar(db.select(Assignment)).prompt = ""
        db.session.commit()
    stranger, setup = open_assignment(peer, tool_server, role="Instructor", user_id="teacher-9",
                                      resource_link_id=item, course_id=NEW_COURSE)
    assert 'id="copied-from"' in setup.text and 'name="copy_essays"' not in setup.text
    assert "It had no description, so write one below" in setup.text and "filled in below" not in setup.text
    done = post_form(stranger, setup, {"copy_essays": "1", "prompt": "Argue."}, action_contains="/setup")   # forged
    assert done.status_code == 200 and "copied" not in done.text
    with tool_server.app.app_context():
        course = db.session.scalar(db.select(Course).filter_by(context_id=NEW_COURSE))
        copy = db.session.scalar(db.select(Assignment).filter_by(course_id=course.id))
        assert copy.title == "Persuasive essay (2027)"
        assert db.session.scalar(db.select(db.func.count(Submission.id)).filter_by(assignment_id=copy.id)) == 0


@pytest.mark.parametrize("traits, expected", [
    # 3 of cohesion 1-5 is the middle of the range: the middle of 0-100 (and the copy's spelling)
    ("Cohesion 0-100\nvoice 1-4", {"Cohesion": 50}),
    ("cohesion 1-3", {"cohesion": 2}),
    # a trait the copy no longer has is not carried under its old name
    ("organization 1-4", {}),
])
def test_copied_trait_scores_take_the_copys_trait_ranges(peer, tool_server, traits, expected):
    item = link_copied(peer, graded_two_essays(peer, tool_server))   # cohesion 1-5, both graded 3
    teacher, setup = open_assignment(peer, tool_server, role="Instructor", user_id="teacher-1",
                                     resource_link_id=item, course_id=NEW_COURSE)
    done = post_form(teacher, setup, {"traits": traits}, action_contains="/setup")
    assert done.status_code == 200 and "training data: 2." in done.text
    with tool_server.app.app_context():
        course = db.session.scalar(db.select(Course).filter_by(context_id=NEW_COURSE))
        copy = db.session.scalar(db.select(Assignment).filter_by(course_id=course.id))
        grades = db.session.scalars(db.select(Grade).join(Submission, Grade.submission_id == Submission.id)
                                    .where(Submission.assignment_id == copy.id)).all()
        assert len(grades) == 2 and all(g.trait_scores == expected for g in grades)
