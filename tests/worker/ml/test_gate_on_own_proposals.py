"""Held-out essays the teacher graded with the current model's own proposals in view (review mode:
every new essay gets one). They are still compared on: a teacher who changes the proposals they
disagree with gives real grades there (a walkthrough's better v2 won on them, and lost against the
current model's stored figure). When the current model stays, the reason says how many of its own
proposals it was judged on, since it agrees by construction with every score kept as proposed.
Its trait scores are not judged again on those essays: where kept they are its own, and the edited
proposals are the ones it got wrong. Training is faked (`test_pipeline_guards.FakeTraining`:
`current_qwk` is what scoring the current model again gives); the database, the proposals and
the grades are real."""
from __future__ import annotations

from datetime import timedelta

from lti_app.dashboard import wording
from lti_app.extensions import db
from lti_app.models import (AiProposal, Assignment, FeedbackMode, Grade, GradeSource, ModelVersion, Submission,
                            TrainingRun)
from lti_app.models.base import utcnow
from tests.worker.ml.test_pipeline_guards import course, fake  # noqa: F401  (fixtures)
from worker.ml import pipeline, scorer, trait_checks


def _review_mode_grades(app, aid, version_id, source=GradeSource.AI_APPROVED, traits=None, score=3) -> None:
    """The five essays FakeTraining holds out were proposed 3 by `version_id` (None: a version since
    deleted) and graded `score` on the proposal (`source`), an hour later."""
    with app.app_context():
        subs = db.session.scalars(db.select(Submission.id).where(Submission.assignment_id == aid)
                                  .order_by(Submission.id).limit(5)).all()
        for sub_id in subs:
            db.session.add(AiProposal(submission_id=sub_id, model_version_id=version_id, score=3,
                                      trait_scores=traits or {}, confidence=0.9, feedback="Good.", unusual=[],
                                      status="approved", created_at=utcnow() - timedelta(hours=1)))
            db.session.add(Grade(submission_id=sub_id, score=score, source=source, score_min=1, score_max=6,
                                 trait_scores=traits or {}, created_at=utcnow()))
        db.session.commit()


def _v1(app, aid, fake) -> int:
    fake.new_qwk = 0.80
    v1 = pipeline.train_assignment(app, aid)
    assert v1.status == "promoted"
    return v1.id


def test_the_current_model_is_judged_on_its_approved_proposals_and_the_teacher_is_told(course, fake):
    app, aid = course.app, course.aid
    _review_mode_grades(app, aid, _v1(app, aid, fake))
    fake.new_qwk, fake.current_qwk = 0.85, 1.0   # every held-out score is v1's, approved as proposed
    v2 = pipeline.train_assignment(app, aid)
    assert v2.status == "rejected" and v2.gate["held_out_on_own_proposals"] == 5
    assert v2.gate["held_out_kept_as_proposed"] == 5
    assert v2.metrics["current_on_held_out"]["qwk"] == 1.0 and v2.metrics["current_own_test"] is None
    assert any(r.startswith("5 of the 5 essays kept back have the score the current model proposed for them")
               for r in v2.gate["reasons"]), v2.gate["reasons"]
    with app.app_context():
        run = db.session.scalar(db.select(TrainingRun).where(TrainingRun.model_version_id == v2.id))
        said = wording.verdict(db.session.get(ModelVersion, v2.id), run.message)
    assert "(0.850 vs 1.000)" in said and "You kept the score it proposed for 5 of the 5 essays it was tested on" in said
    assert "Changing the scores you disagree with" in said, said


def test_a_better_model_wins_on_the_current_models_corrected_proposals(course, fake):
    app, aid = course.app, course.aid
    _review_mode_grades(app, aid, _v1(app, aid, fake), source=GradeSource.AI_EDITED, score=4)
    fake.new_qwk, fake.current_qwk = 0.77, 0.71
    v2 = pipeline.train_assignment(app, aid)
    assert v2.status == "promoted", v2.gate["reasons"]
    assert v2.gate["held_out_on_own_proposals"] == 5 and v2.gate["held_out_kept_as_proposed"] == 0
    assert not any("own proposals" in r for r in v2.gate["reasons"]), v2.gate["reasons"]


def test_no_note_when_the_teacher_changed_every_proposals_score(course, fake):
    """Changed scores are the teacher's grades: the current model has no edge there to explain."""
    app, aid = course.app, course.aid
    _review_mode_grades(app, aid, _v1(app, aid, fake), source=GradeSource.AI_EDITED, score=4)
    fake.new_qwk, fake.current_qwk = 0.77, 0.80
    v2 = pipeline.train_assignment(app, aid)
    assert v2.status == "rejected" and v2.gate["held_out_kept_as_proposed"] == 0
    assert not any("own proposals" in r for r in v2.gate["reasons"]), v2.gate["reasons"]
    with app.app_context():
        run = db.session.scalar(db.select(TrainingRun).where(TrainingRun.model_version_id == v2.id))
        said = wording.verdict(db.session.get(ModelVersion, v2.id), run.message)
    assert "You kept the score" not in said and "(0.770 vs 0.800)" in said, said


def test_proposals_of_another_version_are_not_the_current_ones(course, fake):
    app, aid = course.app, course.aid
    _v1(app, aid, fake)
    _review_mode_grades(app, aid, None)   # the version that proposed them was deleted
    fake.new_qwk, fake.current_qwk = 0.85, 0.9
    v2 = pipeline.train_assignment(app, aid)
    assert v2.status == "rejected" and v2.gate["held_out_on_own_proposals"] == 0
    assert not any("own proposals" in r for r in v2.gate["reasons"]), v2.gate["reasons"]


def test_the_current_models_traits_are_not_judged_again_on_its_own_proposals(course, fake, monkeypatch):
    """v1's traits were never measured (as for a version trained before trait checks). The held-out
    essays are its proposals, edited by the teacher (where it was wrong) and approved: they judge
    nothing about v1's traits, so its verdict stays as it was (left out of auto-released grades)
    instead of being decided on the essays it got wrong."""
    app, aid = course.app, course.aid
    with app.app_context():
        a = db.session.get(Assignment, aid)
        a.traits = [{"name": "content", "min": 1, "max": 6}]
        a.feedback_mode = FeedbackMode.AUTO_RELEASE
        for grade in db.session.scalars(db.select(Grade)):
            grade.trait_scores = {"content": 3}
        db.session.commit()
    v1 = _v1(app, aid, fake)
    with app.app_context():
        db.session.get(ModelVersion, v1).gate = {"promote": True, "reasons": [], "checks": {}}
        db.session.commit()
    _review_mode_grades(app, aid, v1, source=GradeSource.AI_EDITED, traits={"content": 1})

    def v1_answers(model, texts, **_):   # v1 gave content 3; the teacher changed it to 1 on all five
        return [scorer.Prediction(score=3, raw=3.0, confidence=0.9,
                                  traits={"content": {"score": 3, "raw": 3.0, "confidence": 0.9}}) for _ in texts]
    monkeypatch.setattr(scorer, "score", v1_answers)
    fake.new_qwk, fake.current_qwk = 0.84, 0.85
    assert pipeline.train_assignment(app, aid).status == "rejected"
    with app.app_context():
        serving = db.session.get(ModelVersion, v1)
        assert "traits_measured" not in serving.gate, serving.gate
        assert trait_checks.withheld(serving.gate, ["content"]) == ["content"]


def test_a_score_kept_with_other_words_counts_as_kept(course, fake):
    """A teacher who rewrites every proposal's feedback but keeps its score gives the current model
    its own scores all the same (an edited grade, `AI_EDITED`): the note is said."""
    app, aid = course.app, course.aid
    _review_mode_grades(app, aid, _v1(app, aid, fake), source=GradeSource.AI_EDITED, score=3)
    fake.new_qwk, fake.current_qwk = 0.85, 1.0
    v2 = pipeline.train_assignment(app, aid)
    assert v2.status == "rejected" and v2.gate["held_out_kept_as_proposed"] == 5, v2.gate
    assert any("have the score the current model proposed" in r for r in v2.gate["reasons"]), v2.gate["reasons"]
