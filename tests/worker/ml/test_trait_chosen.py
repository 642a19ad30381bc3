"""Which trait scores count as the teacher's when a trait is judged (`Examples.trait_chosen`, read by
`trait_checks.measure`): a grade given by hand or imported, yes; an approved proposal's, no (the
review form fills in the model's own trait scores, so "Approve" would measure the model against
itself); an edited proposal's, all of them: the values the teacher kept with those they changed
(counting only the changed ones judged the model on its mistakes alone). Grades are made the way
the review queue makes them (`lti_app.review.decisions.decide`)."""
from __future__ import annotations

import numpy as np

from lti_app.extensions import db
from lti_app.models import AiProposal, GradeSource, User
from tests.worker.coursework import add_essays, make_assignment
from worker.ml import trait_checks
from worker.ml.training_set import load_examples

TRAITS = [{"name": "content", "min": 1, "max": 6}, {"name": "style", "min": 1, "max": 6}]


def _proposal(sub_id: int) -> AiProposal:
    p = AiProposal(submission_id=sub_id, score=4, confidence=0.9, trait_scores={"content": 2, "style": 5},
                   feedback="Good reasons.", status="pending", unusual=[])
    db.session.add(p)
    db.session.flush()
    return p


def test_only_trait_scores_the_teacher_chose_judge_a_trait(app):
    from lti_app.review.decisions import decide

    with app.app_context():
        a = make_assignment(traits=TRAITS)
        teacher = User(platform_id=a.course.platform_id, sub="teacher-1")
        db.session.add(teacher)
        approved, edited, by_hand = add_essays(a.id, [(f"Essay {i} about phones at school.", None) for i in range(3)])
        add_essays(a.id, [("An imported essay about phones.", None)])
        db.session.commit()
        decide(a, _proposal(approved), None, teacher.id)                       # "Approve", traits untouched
        decide(a, _proposal(edited), {"score": 4, "comment": "Good reasons.",   # content changed, style kept
                                      "trait_scores": {"content": 3, "style": 5}}, teacher.id)
        db.session.commit()
        from lti_app.coursework.grading import save_grade
        from lti_app.models import Submission
        save_grade(a, db.session.get(Submission, by_hand), {"score": 3, "trait_scores": {"content": 3}}, teacher.id)
        db.session.commit()
        ex = load_examples(a.id)
    chosen = dict(zip(ex.submission_ids, ex.trait_chosen))
    assert chosen[approved] == frozenset(), "an approved proposal's trait scores are the model's"
    assert chosen[edited] == {"content", "style"}, "kept and changed alike, never one side"
    assert chosen[by_hand] == {"content"}
    assert ex.trait_scores[ex.submission_ids.index(approved)] == {"content": 2, "style": 5}, "training keeps them"
    i = ex.submission_ids.index(approved)
    figures = trait_checks.measure(ex.subset([i]), np.array([[4.0, 2.0, 5.0]]))
    assert figures["content"] == {"n": 0} and figures["style"] == {"n": 0}


def test_a_grade_imported_or_given_by_hand_counts_whole(app):
    with app.app_context():
        a = make_assignment(traits=TRAITS)
        ids = add_essays(a.id, [("One essay about phones.", 4)], source=GradeSource.IMPORT)
        from lti_app.models import Grade
        grade = db.session.scalar(db.select(Grade).where(Grade.submission_id == ids[0]))
        grade.trait_scores = {"content": 4, "style": 3}
        db.session.commit()
        ex = load_examples(a.id)
    assert ex.trait_chosen == [frozenset({"content", "style"})]


def test_examples_built_without_the_list_are_all_the_teachers():
    """The benchmark and the GPU check build `Examples` from CSV files: every trait score there is a
    teacher's."""
    from worker.ml.examples import Examples

    ex = Examples(texts=["a", "b"], scores=[1, 2], score_min=1, score_max=6, traits=TRAITS[:1],
                  trait_scores=[{"content": 1}, {"content": 2}])
    assert trait_checks.measure(ex, np.array([[1.0, 1.0], [2.0, 2.0]]))["content"]["n"] == 2
