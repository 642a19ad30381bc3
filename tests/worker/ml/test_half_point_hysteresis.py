"""The step of a course target is sticky relative to the model in service: a target whose model
gives half points goes back to whole points only when the teacher's halves fall clearly below the
line (`training_set.WHOLE_POINT_SHARE`), and a whole-point one turns half-point at
`HALF_POINT_SHARE`, as with no model in service. Deciding afresh at 20% each time flipped a teacher
near the line (15% halves) between trainings."""
from __future__ import annotations

from lti_app.extensions import db
from lti_app.models import Grade, GradeSource, Submission
from tests.worker.coursework import make_assignment
from worker.ml.training_set import load_examples, steps_in_service

TRAITS = [{"name": "cohesion", "min": 1, "max": 5}]


def _course(halves: int, n: int = 30, trait_halves: int = 0):
    """An assignment (1-6, trait cohesion 1-5) with `n` grades by hand, `halves` of them (and
    `trait_halves` of the cohesion scores) in half points; its id."""
    a = make_assignment(traits=TRAITS)
    for i in range(n):
        sub = Submission(assignment_id=a.id, text=f"Essay {i} graded by hand.", word_count=5)
        db.session.add(sub)
        db.session.flush()
        db.session.add(Grade(submission_id=sub.id, score=1 + i % 5 + (0.5 if i < halves else 0),
                             trait_scores={"cohesion": 1 + i % 4 + (0.5 if i < trait_halves else 0)},
                             source=GradeSource.TEACHER, score_min=1, score_max=6))
    db.session.commit()
    return a.id


def test_a_half_point_model_in_service_keeps_a_teacher_near_the_line_in_halves(app):
    with app.app_context():
        aid = _course(halves=5)   # 17%: under the 20% of a first decision
        assert load_examples(aid).steps == {}
        assert load_examples(aid, current_steps={"overall": 1.0, "cohesion": 1.0}).steps == {}
        ex = load_examples(aid, current_steps={"overall": 0.5, "cohesion": 1.0})
        assert ex.steps == {"overall": 0.5} and 9 in ex.scores   # 4.5 trains as 9


def test_it_goes_back_to_whole_points_once_halves_are_clearly_rare(app):
    with app.app_context():
        aid = _course(halves=2)   # 7%: under 10%
        assert load_examples(aid, current_steps={"overall": 0.5}).steps == {}
        aid = _course(halves=3)   # 10%: not under it
        assert load_examples(aid, current_steps={"overall": 0.5}).steps == {"overall": 0.5}


def test_a_whole_point_model_in_service_turns_half_point_at_the_same_line(app):
    with app.app_context():
        aid = _course(halves=6)   # 20%
        assert load_examples(aid, current_steps={"overall": 1.0}).steps == {"overall": 0.5}
        assert load_examples(aid).steps == {"overall": 0.5}


def test_each_trait_keeps_its_own_step(app):
    with app.app_context():
        aid = _course(halves=0, trait_halves=5)
        assert load_examples(aid).steps == {}
        assert load_examples(aid, current_steps={"overall": 1.0, "cohesion": 0.5}).steps == {"cohesion": 0.5}
        # a trait the model in service does not have is decided on the 20% rule alone
        assert load_examples(aid, current_steps={"overall": 0.5}).steps == {}


def test_the_steps_in_service_come_from_its_meta():
    meta = {"targets": [{"name": "overall", "lo": 2, "hi": 12, "step": 0.5}, {"name": "cohesion", "lo": 1, "hi": 5}]}
    assert steps_in_service(meta) == {"overall": 0.5, "cohesion": 1.0}   # no step: an older, whole-point version
    assert steps_in_service(None) is None
