"""What the worker trains on (`training_set.load_examples`): which grade of an essay counts, its score
as a whole number, and which scores a model gave (never held out by the gate)."""
from __future__ import annotations

from lti_app.extensions import db
from lti_app.models import Grade, GradeSource, Submission
from tests.worker.coursework import add_essays, make_assignment
from worker.ml.training_set import load_examples


def test_half_points_train_as_the_next_whole_score(app):
    """Python's round() sends halves to the even number: 3.5 and 4.5 both trained as 4. (A course
    whose grades are often halves trains on half points instead: tests/worker/ml/test_half_points.py.)"""
    with app.app_context():
        a = make_assignment()
        add_essays(a.id, [(f"Essay number {i} about phones at school.", s)
                           for i, s in enumerate([3.5, 4.5] + [1, 2, 3, 4, 5, 6] * 2)])
        ex = load_examples(a.id)
        assert ex.scores == [4, 5] + [1, 2, 3, 4, 5, 6] * 2 and ex.steps == {}


def test_an_essay_graded_with_a_models_proposal_in_view_is_marked_whatever_the_teacher_did_with_it(app):
    """Kept or changed, the score was given with the current model's proposal shown: the gate judges
    on both sides or neither (`retrain.holdout_indices`). Keeping only the changed ones held out
    judged the current model where it was wrong by construction; keeping only the kept ones
    (approved unchanged, the earlier rule) where it was right."""
    from datetime import timedelta

    from lti_app.models import AiProposal
    from lti_app.models.base import utcnow

    with app.app_context():
        a = make_assignment()
        kept, changed, later, approved, unproposed = add_essays(a.id, [(f"Essay {i} about phones.", None)
                                                                       for i in range(5)])
        then = utcnow() - timedelta(hours=1)
        for sub_id, proposed in ((kept, 4), (changed, 4), (later, 3), (approved, 5)):
            db.session.add(AiProposal(submission_id=sub_id, score=proposed, trait_scores={}, confidence=0.9,
                                      feedback="Good.", unusual=[], status="edited",
                                      created_at=then if sub_id != later else utcnow() + timedelta(hours=1)))
        for sub_id, score, source in ((kept, 4, GradeSource.TEACHER), (changed, 3, GradeSource.AI_EDITED),
                                      (later, 3, GradeSource.TEACHER), (approved, 5, GradeSource.AI_APPROVED),
                                      (unproposed, 2, GradeSource.TEACHER)):
            db.session.add(Grade(submission_id=sub_id, score=score, source=source, score_min=1, score_max=6))
        db.session.commit()
        ex = load_examples(a.id)
        assert dict(zip(ex.submission_ids, ex.had_proposal)) == {kept: True, changed: True, later: False,
                                                                 approved: True, unproposed: False}


def test_a_proposal_made_after_the_grade_was_not_in_view(app):
    """A later proposal (for a revision the student handed in after the grade) was not in front of
    the teacher when they approved the first one; only the proposals made before the grade count."""
    from datetime import timedelta

    from lti_app.models import AiProposal, ModelVersion
    from lti_app.models.base import utcnow
    from tests.worker.coursework import put_model_in_service

    with app.app_context():
        a = make_assignment()
        first = put_model_in_service(a).id
        later = ModelVersion(assignment_id=a.id, version=2, status="promoted", approach="frozen-ridge", path="/x/v2",
                             onnx_path="/x/v2/model.onnx", metrics={}, gate={})
        db.session.add(later)
        db.session.flush()
        [sub_id] = add_essays(a.id, [("Essay about phones.", None)])
        db.session.add(AiProposal(submission_id=sub_id, model_version_id=first, score=4, trait_scores={},
                                  confidence=0.9, feedback="Good.", unusual=[], status="approved",
                                  created_at=utcnow() - timedelta(hours=2)))
        db.session.add(Grade(submission_id=sub_id, score=4, source=GradeSource.AI_APPROVED, score_min=1, score_max=6,
                             created_at=utcnow() - timedelta(hours=1)))
        db.session.add(AiProposal(submission_id=sub_id, model_version_id=later.id, score=5, trait_scores={},
                                  confidence=0.9, feedback="Good.", unusual=[], status="pending", created_at=utcnow()))
        db.session.commit()
        ex = load_examples(a.id)
        assert ex.proposed_by == [{first: 4.0}]


def test_grades_mapped_from_an_older_range_do_not_make_a_half_point_course(app):
    """A teacher who widened the range from 1-5 to 1-10 grades in whole points: the old grades map
    to fractions (3 -> 5.5) that say nothing of how they grade now."""
    with app.app_context():
        a = make_assignment(score_min=1, score_max=10)
        ids = add_essays(a.id, [(f"Essay number {i} about phones at school.", None) for i in range(20)])
        for i, sub_id in enumerate(ids):
            old = i < 12   # most grades given on the old 1-5 range, in whole points
            db.session.add(Grade(submission_id=sub_id, score=(2 + i % 3) if old else (4 + i % 5),
                                 source=GradeSource.TEACHER, score_min=1, score_max=5 if old else 10))
        db.session.commit()
        ex = load_examples(a.id)
        assert ex.steps == {} and (ex.score_min, ex.score_max) == (1, 10)
