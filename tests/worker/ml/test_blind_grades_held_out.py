"""Grades given blind (`Grade.blind`: the grading page hid the model's proposal, lti_app/review/blind.py)
train as given without a proposal in view, so in review mode, where every other grade was given
with the model in service's proposal shown, the gate tests a new version on the blind ones
(`retrain.holdout_indices`) and the comparison no longer favours the model in service."""
from __future__ import annotations

from datetime import timedelta

from lti_app.extensions import db
from lti_app.models import AiProposal, Grade, GradeSource, ModelVersion
from lti_app.models.base import utcnow
from tests.worker.coursework import add_essays, make_assignment
from worker.ml.retrain import holdout_indices
from worker.ml.training_set import load_examples


def test_the_held_out_essays_are_the_blind_graded_ones_in_review_mode(app):
    with app.app_context():
        a = make_assignment()
        version = ModelVersion(assignment_id=a.id, version=1, status="promoted", approach="frozen-ridge", path="m/1")
        db.session.add(version)
        db.session.flush()
        subs = add_essays(a.id, [(f"Essay {i} about phones at school, with reasons.", None) for i in range(40)])
        blind = set(subs[::5])   # 8 of 40: the held-out share is 20%, 8 essays
        then = utcnow() - timedelta(hours=1)
        for n, sub_id in enumerate(subs):
            db.session.add(AiProposal(submission_id=sub_id, model_version_id=version.id, score=1 + n % 6,
                                      trait_scores={}, confidence=0.9, feedback="Good.", unusual=[],
                                      status="approved" if sub_id not in blind else "pending", created_at=then))
            db.session.add(Grade(submission_id=sub_id, score=1 + n % 6, score_min=1, score_max=6,
                                 source=GradeSource.TEACHER if sub_id in blind else GradeSource.AI_APPROVED,
                                 blind=sub_id in blind))
        db.session.commit()
        ex = load_examples(a.id)
        held, fair = holdout_indices(ex, seen_ids=[], seed=7)
        assert fair and {ex.submission_ids[i] for i in held} == blind
        assert all(not ex.proposed_by[i] for i in held)
