"""What the teacher or a second worker does while an essay is being scored decides its fate, on
PostgreSQL and on the embedded SQLite: auto-release switched off during scoring keeps the AI's
grade back, and two deliveries scoring one essay version at once leave one proposal and one LMS
post. A tiny real ONNX model (tinymodel.py) scores."""
from __future__ import annotations

import threading
from types import SimpleNamespace

import pytest

import worker.autofeedback  # noqa: F401  registers the real feedback modes
from lti_app.extensions import db
from lti_app.models import AiProposal, Assignment, FeedbackMode, Grade, OutboxEvent, Submission, User
from tests.worker.coursework import add_graded, make_assignment
from tests.worker.ml import tinymodel
from worker.handlers.scoring import score_new_submission
from worker.ml import scorer

ESSAY = "Phones distract students in class and at home. " * 12


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def scoring_app(request, make_app):
    if request.param == "postgres":
        return request.getfixturevalue("pg_app")("memory://")
    return make_app()


def _student_essay(app, **settings) -> int:
    with app.app_context():
        a = make_assignment(**settings)
        tinymodel.promoted_v1(app, a)
        student = User(platform_id=a.course.platform_id, sub="student-1")
        db.session.add(student)
        db.session.flush()
        essay = Submission(assignment_id=a.id, user_id=student.id, text=ESSAY, word_count=96)
        db.session.add(essay)
        db.session.commit()
        return essay.id


def _score(app, submission_id: int) -> None:
    with app.app_context():
        score_new_submission(SimpleNamespace(app=app, payload={"submission_id": submission_id}))
        db.session.commit()


def test_auto_release_switched_off_during_scoring_keeps_the_grade_back(scoring_app, monkeypatch):
    app = scoring_app
    essay_id = _student_essay(app, feedback_mode=FeedbackMode.AUTO_RELEASE, confidence_threshold=0.0)
    real = scorer.score_submission

    def teacher_switches_to_review_meanwhile(app_, submission_id):
        prediction = real(app_, submission_id)
        with db.engine.begin() as settings_save:   # the teacher's request, its own connection
            settings_save.execute(db.update(Assignment).values(feedback_mode=FeedbackMode.REVIEW.name))
        return prediction

    monkeypatch.setattr(scorer, "score_submission", teacher_switches_to_review_meanwhile)
    _score(app, essay_id)
    with app.app_context():
        assert db.session.scalars(db.select(Grade)).all() == [], "released after the teacher switched it off"
        [proposal] = db.session.scalars(db.select(AiProposal)).all()
        assert proposal.status == "pending", "it waits for the teacher's review instead"


def test_two_deliveries_scoring_one_version_at_once_leave_one_proposal(scoring_app, monkeypatch):
    app = scoring_app
    essay_id = _student_essay(app, feedback_mode=FeedbackMode.REVIEW)
    both_scored = threading.Barrier(2, timeout=10)
    real = scorer.score_submission

    def scoring(app_, submission_id):
        prediction = real(app_, submission_id)
        both_scored.wait()   # both passed the "already scored?" check before either wrote
        return prediction

    monkeypatch.setattr(scorer, "score_submission", scoring)
    workers = [threading.Thread(target=_score, args=(app, essay_id)) for _ in range(2)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(60)
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(AiProposal.id))) == 1
        posts = [e for e in db.session.scalars(db.select(OutboxEvent)) if e.type == "gradebook.sync"]
        assert len(posts) == 1, [e.payload for e in posts]


def test_a_model_retired_during_scoring_gives_no_proposal(scoring_app, monkeypatch):
    """An erasure retires the model (or a teacher rolls back) while an essay is scored: the score
    of a model that no longer serves is not released; the essay waits for the teacher."""
    app = scoring_app
    essay_id = _student_essay(app, feedback_mode=FeedbackMode.AUTO_RELEASE, confidence_threshold=0.0)
    real = scorer.score_submission

    def retired_meanwhile(app_, submission_id):
        prediction = real(app_, submission_id)
        with db.engine.begin() as erasure:
            erasure.execute(db.update(Assignment).values(current_model_id=None))
        return prediction

    monkeypatch.setattr(scorer, "score_submission", retired_meanwhile)
    _score(app, essay_id)
    with app.app_context():
        assert db.session.scalars(db.select(AiProposal)).all() == []
        assert db.session.scalars(db.select(Grade)).all() == []


def test_the_feedback_is_written_before_the_essay_is_locked(scoring_app, monkeypatch):
    """Building a course's feedback index takes a second or more; on SQLite the row lock is the
    whole database's, so the text is composed before it is taken."""
    from lti_app import locking
    from worker import autofeedback

    app = scoring_app
    essay_id = _student_essay(app, feedback_mode=FeedbackMode.REVIEW)
    order, real_lock, real_write = [], locking.sqlite_write_lock, autofeedback.write_feedback
    monkeypatch.setattr(locking, "sqlite_write_lock", lambda: (order.append("lock"), real_lock())[1])
    monkeypatch.setattr(autofeedback, "write_feedback", lambda *a: (order.append("feedback"), real_write(*a))[1])
    autofeedback.install()   # registers the patched writer
    try:
        _score(app, essay_id)
    finally:
        monkeypatch.undo()
        autofeedback.install()
    assert order[:2] == ["feedback", "lock"], order
    with app.app_context():
        assert db.session.scalars(db.select(AiProposal)).one().feedback


def test_graded_essays_erased_while_the_feedback_is_written_get_it_written_again(scoring_app, monkeypatch):
    """An erasure that deletes graded essays after this essay's feedback was composed (from their
    comments, perhaps) and before its proposal is stored: the erasure's scan for quotes could not
    see it, so the worker defers and writes the feedback again from the essays that remain."""
    from worker.errors import Deferred
    from worker.handlers import scoring

    app = scoring_app
    essay_id = _student_essay(app, feedback_mode=FeedbackMode.REVIEW)
    with app.app_context():
        assignment_id = db.session.get(Submission, essay_id).assignment_id
        [graded] = add_graded(db.session.get(Assignment, assignment_id), 1)
        graded_essay = graded.submission_id
        db.session.commit()
    real_writer = scoring._feedback_writer

    def erased_meanwhile(*args):
        text = real_writer(*args)
        with db.engine.begin() as erasure:   # the erasure command, its own connection
            erasure.execute(db.delete(Grade).where(Grade.submission_id == graded_essay))
            erasure.execute(db.delete(Submission).where(Submission.id == graded_essay))
        return text

    monkeypatch.setattr(scoring, "_feedback_writer", erased_meanwhile)
    with pytest.raises(Deferred):
        _score(app, essay_id)
    with app.app_context():
        assert db.session.scalars(db.select(AiProposal)).all() == []
    monkeypatch.setattr(scoring, "_feedback_writer", real_writer)
    _score(app, essay_id)   # the retry
    with app.app_context():
        assert db.session.scalars(db.select(AiProposal)).one().feedback
