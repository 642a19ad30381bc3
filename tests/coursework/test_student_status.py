"""A student waiting on a handed-in essay reads when to expect feedback (soon with auto-release and a
course model, from the teacher otherwise, once the model held the essay back or for a revision),
and the state the page polls (coursework/student_status.py) changes exactly when the essay's page would,
not when a worker stops or starts."""
from __future__ import annotations

from datetime import timedelta

from lti_app.coursework.student_status import REVISION, SOON, TEACHER
from lti_app.extensions import db
from lti_app.models import (AiProposal, Assignment, FeedbackMode, Grade, GradeSource, ModelVersion, Role,
                            Submission, SubmissionStatus, WorkerHeartbeat)
from lti_app.models.base import utcnow
from tests import heartbeats
from tests.coursework.helpers import login
from worker import health


def _student(client, app, world):
    return login(client, app, course_id=world.course_a, user_id=world.student1_a, role=Role.LEARNER,
                 resource_link_id=world.link_a, platform_id=world.platform)


def _set(app, world, mode: FeedbackMode, with_model: bool) -> None:
    with app.app_context():
        assignment = db.session.get(Assignment, world.assignment_a)
        assignment.feedback_mode = mode
        if with_model and assignment.current_model_id is None:
            version = ModelVersion(assignment_id=assignment.id, version=1, status="promoted", approach="frozen-ridge",
                                   path="v1", n_train=30)
            db.session.add(version)
            db.session.flush()
            assignment.current_model_id = version.id
        db.session.commit()


def _page(client, world) -> str:
    return client.get(f"/coursework/a/{world.assignment_a}/essay").get_data(as_text=True)


def _state(client, world) -> dict:
    response = client.get(f"/coursework/a/{world.assignment_a}/essay/state.json")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    return response.get_json()


def test_the_waiting_student_reads_when_feedback_comes(client, app, world):
    _student(client, app, world)
    # Auto-release before the course has a model: the teacher grades it.
    _set(app, world, FeedbackMode.AUTO_RELEASE, with_model=False)
    assert TEACHER in _page(client, world) and SOON not in _page(client, world)
    # Review mode with a model: the teacher still reads each essay first.
    _set(app, world, FeedbackMode.REVIEW, with_model=True)
    assert TEACHER in _page(client, world)
    # Auto-release with a model, but no worker runs: nothing scores it, so the teacher grades it.
    _set(app, world, FeedbackMode.AUTO_RELEASE, with_model=True)
    assert TEACHER in _page(client, world)
    unscored = _state(client, world)["state"]
    # A worker scores essays: feedback in minutes. Not news for a page drawn before: the essay did
    # not change (a worker restarting must not tell every waiting student so; see below).
    heartbeats.beat(app, ["scoring"])
    page = _page(client, world)
    assert SOON in page and TEACHER not in page and "data-poll-state=" in page
    before = _state(client, world)["state"]
    assert before == unscored
    # The model held this essay for the teacher: the promise changes, and so does the polled state.
    with app.app_context():
        submitted_at = db.session.get(Submission, world.essay_a).submitted_at
        db.session.add(AiProposal(submission_id=world.essay_a, score=2, confidence=0.2, trait_scores={},
                                  feedback="Short.", status="pending", unusual=[], essay_submitted_at=submitted_at))
        db.session.commit()
    assert TEACHER in _page(client, world)
    held = _state(client, world)
    assert held["state"] != before and held["news"] == "There is news about your essay."


def test_a_worker_restart_is_no_news_to_a_waiting_student(client, app, world):
    """A deploy (or `docker compose restart worker`) stops the worker, whose last beat says
    "stopped", and starts a new one: the page, polled meanwhile, must not announce news about the
    essay, and the note still promises feedback soon (diffreview3)."""
    _student(client, app, world)
    _set(app, world, FeedbackMode.AUTO_RELEASE, with_model=True)
    old = heartbeats.beat(app)
    drawn = _state(client, world)
    assert SOON in _page(client, world)
    with app.app_context():   # graceful stop (SIGTERM): its last beat says so
        health.beat(old, "test-host", heartbeats.queue_names(app), "stopped")
    assert _state(client, world) == drawn
    assert SOON in _page(client, world)   # a page loaded while the new process starts
    heartbeats.beat(app)   # the new worker's first beat
    assert _state(client, world) == drawn
    # A worker stopped for good: the note says the teacher grades it; still no news to announce.
    with app.app_context():
        for row in db.session.scalars(db.select(WorkerHeartbeat)):
            row.status, row.last_seen = "stopped", utcnow() - timedelta(minutes=2)
        db.session.commit()
    assert TEACHER in _page(client, world) and _state(client, world) == drawn


def _grade(app, world, score: int) -> None:
    """The teacher grades student 1's essay (its current version)."""
    with app.app_context():
        db.session.add(Grade(submission_id=world.essay_a, score=score, comment="Clear.", source=GradeSource.TEACHER,
                             score_min=1, score_max=6, grader_id=world.teacher_a))
        db.session.get(Submission, world.essay_a).status = SubmissionStatus.GRADED
        db.session.commit()


def test_the_polled_state_changes_when_the_essay_is_graded_and_not_before(client, app, world):
    _student(client, app, world)
    first = _state(client, world)
    assert _state(client, world) == first   # nothing happened: a poll must not reload the page
    _grade(app, world, 4)
    graded = _state(client, world)
    assert graded["state"] != first["state"] and graded["news"] == "Your essay has been graded."
    page = _page(client, world)
    assert "data-poll-state=" not in page and 'id="score"' in page   # a graded page stops polling


def _revised(app, world) -> None:
    """As `submissions` leaves a returned essay the student revised: the earlier version's grade
    keeps that version's text, and the essay is handed in again, later."""
    with app.app_context():
        essay = db.session.get(Submission, world.essay_a)
        db.session.add(Grade(submission_id=essay.id, score=3, comment="Give evidence.", source=GradeSource.TEACHER,
                             score_min=1, score_max=6, grader_id=world.teacher_a, essay_text=essay.text,
                             created_at=utcnow() - timedelta(minutes=10)))
        essay.text, essay.status = essay.text + " Now with evidence.", SubmissionStatus.SUBMITTED
        essay.submitted_at = utcnow() - timedelta(minutes=5)
        db.session.commit()


def test_a_revision_waits_for_the_teacher_even_with_auto_release(client, app, world):
    """Auto-release never releases a grade for a revision (worker.handlers.scoring._auto_release:
    the essay has the earlier version's grade), so its page must not promise feedback in minutes,
    and that earlier grade is not news the page reloads for."""
    _student(client, app, world)
    _set(app, world, FeedbackMode.AUTO_RELEASE, with_model=True)
    heartbeats.beat(app, ["scoring"])   # a worker scores essays, yet not this one
    _revised(app, world)
    page = _page(client, world)
    assert REVISION in page and SOON not in page and "data-poll-state=" in page
    assert 'id="previous"' in page   # the earlier feedback is still there to read
    waiting = _state(client, world)
    assert waiting["news"] == "There is news about your essay."
    _grade(app, world, 5)
    graded = _state(client, world)
    assert graded["state"] != waiting["state"] and graded["news"] == "Your essay has been graded."


def test_another_students_state_is_not_theirs_to_read(client, app, world):
    """The state is the launched student's own essay: student 2 (no essay) reads "none"."""
    login(client, app, course_id=world.course_a, user_id=world.student2_a, role=Role.LEARNER,
          resource_link_id=world.link_a, platform_id=world.platform)
    assert _state(client, world)["state"] == "none"
    assert client.get(f"/coursework/a/{world.assignment_b}/essay/state.json").status_code in (403, 404)


def test_a_new_version_box_says_it_replaces_the_essay_handed_in(client, app, world):
    """The box for a new version starts from the version handed in, as a returned essay's does: a
    typo is fixed there without pasting the essay again (an empty box invited pasting one corrected
    paragraph, which replaced the whole essay). The hint says what handing it in replaces."""
    _student(client, app, world)
    page = _page(client, world)
    assert "Hand in a new version" in page
    assert "Edit your essay below: what you hand in replaces the version you handed in." in page
    assert "My essay about things.</textarea>" in page

