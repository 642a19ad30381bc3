"""A student hands in a new version while the worker is scoring the old one: the old score must not
become the new version's proposal (or, in auto-release, its grade), and the new version's own
event must still be scored. A tiny real ONNX model (tinymodel.py) scores; the hand-in is committed
from another connection at the moment the scorer returns."""
from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

from lti_app.extensions import db
from lti_app.models import AiProposal, FeedbackMode, Grade, Submission
from tests.worker.coursework import make_assignment
from tests.worker.ml import tinymodel
from worker.handlers.scoring import score_new_submission
from worker.ml import scorer

OLD, NEW = "Phones at school distract students. " * 10, "Phones at school help students research. " * 10


def test_a_version_handed_in_during_scoring_is_scored_itself(make_app, monkeypatch):
    app = make_app()
    with app.app_context():
        a = make_assignment(feedback_mode=FeedbackMode.AUTO_RELEASE, confidence_threshold=0.0)
        tinymodel.promoted_v1(app, a)
        sub = Submission(assignment_id=a.id, user_id=None, text=OLD, word_count=50)
        db.session.add(sub)
        db.session.commit()
        sub_id, first_hand_in = sub.id, sub.submitted_at

    scored, real = [], scorer.score_submission

    def scoring_while_the_student_hands_in_again(app_, submission_id):
        prediction = real(app_, submission_id)
        scored.append(db.session.get(Submission, submission_id).text)
        if len(scored) == 1:   # the hand-in commits between reading the essay and writing the proposal
            with db.engine.begin() as other:
                other.execute(db.update(Submission).where(Submission.id == submission_id)
                              .values(text=NEW, submitted_at=first_hand_in + timedelta(seconds=1)))
        return prediction

    monkeypatch.setattr(scorer, "score_submission", scoring_while_the_student_hands_in_again)
    job = SimpleNamespace(app=app, payload={"submission_id": sub_id})
    with app.app_context():
        score_new_submission(job)          # the old version's event: its score is not kept
        db.session.commit()
        assert db.session.scalar(db.select(db.func.count()).select_from(AiProposal)) == 0
        assert db.session.scalar(db.select(Grade.id)) is None
    with app.app_context():
        score_new_submission(job)          # the new version's event: scored, not "already scored"
        db.session.commit()
        [proposal] = db.session.scalars(db.select(AiProposal)).all()
        assert scored == [OLD, NEW] and proposal.essay_submitted_at.replace(tzinfo=None) == \
            (first_hand_in + timedelta(seconds=1)).replace(tzinfo=None)
