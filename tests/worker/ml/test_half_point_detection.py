"""Which courses are half-point courses (`training_set.HALF_POINT_SHARE`): decided on the teacher's
own choices, not on a model's proposals approved as they stood, nor edited ones whose score was
kept. A whole-point model's approvals (whole numbers, all it can give) made a teacher who grades
in halves a whole-point one, and a half-point model's approved halves would keep a course
half-point whatever the teacher does by hand."""
from __future__ import annotations

from datetime import timedelta

from lti_app.extensions import db
from lti_app.models import AiProposal, Grade, GradeSource, Submission
from lti_app.models.base import utcnow
from tests.worker.coursework import make_assignment, put_model_in_service
from worker.ml.training_set import load_examples

BY_HAND = [3.5, 2.5, 4.5, 1.5, 5.5] * 2 + [1, 2, 3, 4, 5, 6] * 3 + [3, 4]   # 10 of 30 in halves


def _graded(a, text, score, source, version_id=None, proposed=None):
    sub = Submission(assignment_id=a.id, text=text, word_count=len(text.split()))
    db.session.add(sub)
    db.session.flush()
    if source in (GradeSource.AI_APPROVED, GradeSource.AI_EDITED):
        db.session.add(AiProposal(submission_id=sub.id, model_version_id=version_id,
                                  score=score if proposed is None else proposed, trait_scores={}, confidence=0.5,
                                  feedback="Good.", unusual=[], status="approved",
                                  created_at=utcnow() - timedelta(hours=1)))
    db.session.add(Grade(submission_id=sub.id, score=score, source=source, score_min=1, score_max=6))


def test_a_whole_point_models_approved_proposals_do_not_make_a_half_point_teacher_whole(app):
    with app.app_context():
        a = make_assignment()
        v1 = put_model_in_service(a)
        for i, s in enumerate(BY_HAND):
            _graded(a, f"Essay {i} graded by hand.", s, GradeSource.TEACHER)
        for i in range(25):   # 10 halves in 55 grades (18%) if these counted
            _graded(a, f"Essay {i} approved as proposed.", [2, 3, 4, 5, 3][i % 5], GradeSource.AI_APPROVED, v1.id)
        for i in range(10):   # edited, the proposal's score kept: the model's too
            _graded(a, f"Essay {i} edited, score kept.", 4, GradeSource.AI_EDITED, v1.id)
        db.session.commit()
        assert load_examples(a.id).steps == {"overall": 0.5}


def test_a_half_point_models_approved_halves_do_not_keep_a_whole_point_teacher_half(app):
    with app.app_context():
        a = make_assignment()
        v1 = put_model_in_service(a)
        for i in range(30):
            _graded(a, f"Essay {i} graded by hand.", 1 + i % 6, GradeSource.TEACHER)
        for i in range(20):
            _graded(a, f"Essay {i} approved as proposed.", 3.5, GradeSource.AI_APPROVED, v1.id)
        for i in range(5):   # a proposal of 3.5 the teacher changed to a whole 3: their choice
            _graded(a, f"Essay {i} edited.", 3, GradeSource.AI_EDITED, v1.id, proposed=3.5)
        db.session.commit()
        ex = load_examples(a.id)
        assert ex.steps == {} and 4 in ex.scores   # 3.5 trains as 4 on the whole-point scale
