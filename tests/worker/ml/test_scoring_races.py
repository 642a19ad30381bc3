"""What the teacher or a second worker does while an essay is being scored decides its fate, on
PostgreSQL and on the embedded SQLite: auto-release switched off during scoring keeps the AI's
grade back, and two deliveries scoring one essay version at once leave one proposal and one LMS
post. A tiny real ONNX model (tinymodel.py) scores."""
from __future__ import annotations

import threading
import time
from types import SimpleNamespace

import pytest

import worker.autofeedback  # noqa: F401  registers the real feedback modes
from lti_app.extensions import db
from lti_app.models import AiProposal, Assignment, FeedbackMode, Grade, GradeSource, OutboxEvent, Submission, User
from tests.worker.coursework import add_graded, make_assignment, two_students_and_a_teacher
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
        graded, other = add_graded(db.session.get(Assignment, assignment_id), 2)
        graded_essay, other_essay = graded.submission_id, other.submission_id
        db.session.commit()
    real_writer = scoring._feedback_writer

    def erased_meanwhile(*args):
        text = real_writer(*args)
        with db.engine.begin() as erasure:   # the erasure command, its own connection
            erasure.execute(db.delete(Grade).where(Grade.submission_id == graded_essay))
            erasure.execute(db.delete(Submission).where(Submission.id == graded_essay))
        with db.engine.begin() as teacher:   # and a grade saved meanwhile: the count is what it was
            teacher.execute(db.insert(Grade).values(submission_id=other_essay, score=4, source=GradeSource.TEACHER,
                                                    score_min=1, score_max=6))
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


@pytest.mark.postgres
def test_an_erasure_and_a_teacher_approving_a_quoting_proposal_both_finish(pg_app, monkeypatch):
    """The erasure locks the assignment while a teacher approves a classmate's proposal that
    quotes the erased student's comment. The approval holds the proposal row and asks for the
    assignment (FOR KEY SHARE, as every grade save does); the erasure holds the assignment and
    wants to delete that proposal. With the erasure's FOR UPDATE that was a deadlock; with FOR NO
    KEY UPDATE the approval goes first and the erasure counts the proposal as released."""
    from lti_app import erasure
    from lti_app.review import decisions

    app = pg_app("memory://")
    story = "your story about your brother's accident moves the reader."
    with app.app_context():
        a = make_assignment(feedback_mode=FeedbackMode.REVIEW)
        graded, waiting, teacher = two_students_and_a_teacher(a, ESSAY)
        db.session.add(Grade(submission_id=graded.id, score=5, source=GradeSource.TEACHER, score_min=1,
                             score_max=6, comment=f"Dear Ada, {story}"))
        proposal = AiProposal(submission_id=waiting.id, score=4, confidence=0.5, trait_scores={},
                              feedback=f"{story} Add a second reason.", status="pending",
                              essay_submitted_at=waiting.submitted_at)
        db.session.add(proposal)
        db.session.commit()
        ids = (a.id, proposal.id, teacher.id, graded.user_id)
    claimed, erasure_locked, outcome = threading.Event(), threading.Event(), {}
    real_save, real_withdraw = decisions.save_grade, erasure.withdraw_quoting_proposals

    def save_after_the_erasure_locked(*args, **kwargs):
        claimed.set()                  # the proposal row is held by this transaction now
        erasure_locked.wait(10)
        return real_save(*args, **kwargs)

    def withdraw_once_the_teacher_waits(*args):
        erasure_locked.set()
        time.sleep(0.5)                # the approval asks for the assignment meanwhile
        return real_withdraw(*args)

    monkeypatch.setattr(decisions, "save_grade", save_after_the_erasure_locked)
    monkeypatch.setattr(erasure, "withdraw_quoting_proposals", withdraw_once_the_teacher_waits)

    def approve():
        with app.app_context():
            try:
                assignment_id, proposal_id, teacher_id, _ = ids
                decisions.decide(db.session.get(Assignment, assignment_id), db.session.get(AiProposal, proposal_id),
                                 None, teacher_id)
                db.session.commit()
                outcome["approve"] = "done"
            except Exception as exc:   # noqa: BLE001  the test reports which side failed
                outcome["approve"] = repr(exc)

    def erase():
        claimed.wait(10)
        with app.app_context():
            try:
                outcome["erase"] = erasure.erase_user(db.session.get(User, ids[3]))
            except Exception as exc:   # noqa: BLE001
                outcome["erase"] = repr(exc)

    workers = [threading.Thread(target=approve), threading.Thread(target=erase)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(60)
    assert outcome.get("approve") == "done", outcome
    assert isinstance(outcome.get("erase"), erasure.Erasure), outcome
    assert (outcome["erase"].released, outcome["erase"].withdrawn) == (1, 0)
