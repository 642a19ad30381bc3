"""Scoring glue: no promoted model means acknowledge and do nothing; after a proposal is stored the
assignment's feedback mode decides (review: wait for the teacher; auto: release confident ones)."""
from __future__ import annotations

from lti_app.events import record_event
from lti_app.extensions import db
from lti_app.models import (AiProposal, FeedbackMode, Grade, GradeSource, OutboxEvent, ProcessedMessage,
                            SubmissionStatus)
from tests.worker.conftest import running_worker, wait_for
from tests.worker.coursework import add_graded, make_assignment
from worker.handlers import load_handlers
from worker.handlers.scoring import FEEDBACK_MODES, _auto_release, _keep_for_review


def test_no_model_yet_is_acknowledged_without_work(worker_app, broker_for):
    app = worker_app(broker_for("embedded"))
    with app.app_context():
        a = make_assignment()
        sub_id = add_graded(a, 1)[0].submission_id
        event_id = record_event("submission.created", {"submission_id": sub_id, "assignment_id": a.id,
                                                       "course_id": a.course_id}).event_id
        db.session.commit()
    with running_worker(app, queues=["scoring"]):
        with app.app_context():
            wait_for(lambda: db.session.get(ProcessedMessage, event_id), 20, what="event processed")
            assert db.session.scalar(db.select(db.func.count()).select_from(AiProposal)) == 0


def _proposal(assignment, confidence: float, teacher_grade: bool = False, unusual=()) -> AiProposal:
    grades = add_graded(assignment, 1)
    sub_id = grades[0].submission_id
    if not teacher_grade:
        db.session.delete(grades[0])
    proposal = AiProposal(submission_id=sub_id, score=4, confidence=confidence, trait_scores={}, feedback="Good.",
                          unusual=list(unusual))
    db.session.add(proposal)
    db.session.flush()
    return proposal


def test_default_feedback_dispatch(app):
    """The built-in release rule (the auto-feedback module wraps it with written feedback)."""
    with app.app_context():
        auto = make_assignment(feedback_mode=FeedbackMode.AUTO_RELEASE, confidence_threshold=0.7)
        review = make_assignment(feedback_mode=FeedbackMode.REVIEW)

        confident = _proposal(auto, 0.9)
        _auto_release(None, auto, confident)
        unsure = _proposal(auto, 0.5)
        _auto_release(None, auto, unsure)
        graded_by_teacher = _proposal(auto, 0.99, teacher_grade=True)
        _auto_release(None, auto, graded_by_teacher)
        in_review = _proposal(review, 0.99)
        _keep_for_review(None, review, in_review)
        db.session.commit()

        assert (confident.status, unsure.status, graded_by_teacher.status, in_review.status) == \
            ("released", "pending", "pending", "pending")
        released = db.session.scalars(db.select(Grade).where(Grade.source == GradeSource.AI_AUTO)).all()
        assert [(g.submission_id, g.score, g.comment) for g in released] == [(confident.submission_id, 4, "Good.")]
        assert released[0].submission.status == SubmissionStatus.GRADED
        sync = db.session.scalars(db.select(OutboxEvent).where(OutboxEvent.type == "gradebook.sync")).all()
        assert [e.payload["payload"]["grade_id"] for e in sync] == [released[0].id]


def test_feedback_modes_are_extensible():
    """Every mode has a handler once the worker's built-in modules are loaded, and an extension
    registered for a mode replaces the default."""
    load_handlers("")
    assert set(FEEDBACK_MODES) == set(FeedbackMode)
    assert FEEDBACK_MODES[FeedbackMode.AUTO_RELEASE] is not _auto_release, "worker.autofeedback extends it"


def test_an_unusual_essay_always_waits_for_the_teacher(app):
    """Even with the auto-release threshold at 0, an essay unlike the graded ones is never released."""
    with app.app_context():
        auto = make_assignment(feedback_mode=FeedbackMode.AUTO_RELEASE, confidence_threshold=0.0)
        odd = _proposal(auto, 0.0, unusual=["much shorter than the essays the model learned from (2 words)"])
        _auto_release(None, auto, odd)
        plain = _proposal(auto, 0.0)
        _auto_release(None, auto, plain)
        db.session.commit()
        assert (odd.status, plain.status) == ("pending", "released")
        assert db.session.get(AiProposal, odd.id).unusual == ["much shorter than the essays the model learned from (2 words)"]
