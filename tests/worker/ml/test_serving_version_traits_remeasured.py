"""A version in service whose trait scores were never measured (trained before trait checks), or did
not pass, has them left out of auto-released grades; the next training that scores it again on new
held-out essays (`rescore`: they are new to it) measures its traits too and stores the verdict on it
(`gate["traits"]`, `gate["traits_measured"]`), so its trait scores reach students once they agree
with the teacher's, even when the new version does not replace it. Training is faked
(test_pipeline_guards.FakeTraining); the current model's answers on the held-out essays are the
teacher's trait scores (the scorer is replaced: what is tested is what the pipeline stores)."""
from __future__ import annotations

from lti_app.extensions import db
from lti_app.models import Assignment, FeedbackMode, Grade, ModelVersion, Submission
from tests.worker.ml.test_pipeline_guards import FakeTraining, course, fake  # noqa: F401  fixtures
from worker.ml import pipeline, scorer, trait_checks


def test_the_serving_version_is_measured_again_and_its_trait_scores_reach_students(course, fake, monkeypatch):
    app, aid = course.app, course.aid
    teacher_content = {}
    with app.app_context():
        a = db.session.get(Assignment, aid)
        a.traits = [{"name": "content", "min": 1, "max": 6}]
        a.feedback_mode = FeedbackMode.AUTO_RELEASE
        rows = db.session.execute(db.select(Grade, Submission).join(Submission, Grade.submission_id == Submission.id)
                                  .where(Submission.assignment_id == aid).order_by(Submission.id)).all()
        for i, (grade, sub) in enumerate(rows):
            grade.trait_scores = {"content": 1 + i % 5}
            teacher_content[sub.text] = 1 + i % 5
        db.session.commit()
    v1 = pipeline.train_assignment(app, aid)
    with app.app_context():   # as a version trained before trait checks was stored
        mv = db.session.get(ModelVersion, v1.id)
        mv.gate = {"promote": True, "reasons": [], "checks": {}}
        db.session.commit()
        a = db.session.get(Assignment, aid)
        assert trait_checks.withheld(mv.gate, ["content"]) == ["content"]

    def current_model_answers(model, texts, **_):
        return [scorer.Prediction(score=3, raw=3.0, confidence=0.9,
                                  traits={"content": {"score": teacher_content[t], "raw": float(teacher_content[t]),
                                                      "confidence": 0.9}}) for t in texts]
    monkeypatch.setattr(scorer, "score", current_model_answers)
    fake.new_qwk, fake.current_qwk = 0.84, 0.85      # v2 valid, but no better than v1: v1 stays
    v2 = pipeline.train_assignment(app, aid)
    assert v2.status == "rejected"
    with app.app_context():
        a = db.session.get(Assignment, aid)
        serving = db.session.get(ModelVersion, a.current_model_id)
        assert serving.version == 1
        assert serving.gate["traits"] == {"content": {"passed": True, "reasons": []}}
        assert serving.gate["traits_measured"]["by_version"] == 2
        assert serving.gate["traits_measured"]["figures"]["content"]["n"] == 5
        assert trait_checks.withheld(serving.gate, ["content"]) == []
        from lti_app.dashboard import trait_report
        assert trait_report.withheld_notice(a, serving) == ""
