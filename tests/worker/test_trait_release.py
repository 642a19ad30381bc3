"""Auto-release and trait scores: a proposal carries trait scores to the student, so it goes out
on its own only when every trait of the version in service passed its check (measured at
training, `worker.ml.trait_checks`), and only when its least sure part, overall or trait, is
confident enough. A version trained before trait checks (no verdicts stored) holds them all.
A real tiny ONNX model with a trait scores the essays (tests/worker/ml/tinymodel.py)."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

import worker.autofeedback  # noqa: F401  registers the real feedback modes
from lti_app.extensions import db
from lti_app.models import AiProposal, FeedbackMode, Grade, ModelVersion, Submission, User
from tests.worker.coursework import make_assignment
from tests.worker.ml import tinymodel
from worker.handlers.scoring import score_new_submission
from worker.ml import rounding, versions

ESSAY = "Phones distract students in class and at home. " * 12
PASSED = {"content": {"passed": True, "reasons": []}}
FAILED = {"content": {"passed": False, "reasons": ["QWK 0.040 is below 0.70"]}}


def _scored(app, gate: dict, threshold: float = 0.0, trait_sigma: float = 0.05) -> tuple[AiProposal, list]:
    """A 1-6 course with the trait "content", served by a v1 answering 3 for both (raw 3.0, the
    middle of its band: sure when sigma is small), whose stored gate is `gate`; one essay scored."""
    with app.app_context():
        a = make_assignment(feedback_mode=FeedbackMode.AUTO_RELEASE, confidence_threshold=threshold,
                            traits=[{"name": "content", "min": 1, "max": 6}])
        model_dir = tinymodel.make_version(
            versions.version_dir(app, a.id, 1), raw=0.4, assignment_id=a.id,
            targets=[{"name": "overall", "lo": 1, "hi": 6}, {"name": "content", "lo": 1, "hi": 6}],
            cuts=[rounding.default_cuts(1, 6)] * 2, sigma=[0.05, trait_sigma])
        mv = ModelVersion(assignment_id=a.id, version=1, approach="frozen-ridge", path=str(model_dir),
                          onnx_path=str(model_dir / "model.onnx"), metrics={}, gate=gate)
        db.session.add(mv)
        db.session.flush()
        versions.promote(a, mv)
        student = User(platform_id=a.course.platform_id, sub="student-1")
        db.session.add(student)
        db.session.flush()
        essay = Submission(assignment_id=a.id, user_id=student.id, text=ESSAY, word_count=96)
        db.session.add(essay)
        db.session.commit()
        score_new_submission(SimpleNamespace(app=app, payload={"submission_id": essay.id}))
        db.session.commit()
        proposal = db.session.scalar(db.select(AiProposal).where(AiProposal.submission_id == essay.id))
        grades = db.session.scalars(db.select(Grade).where(Grade.submission_id == essay.id)).all()
        db.session.expunge_all()
        return proposal, grades


def test_a_version_whose_traits_all_passed_releases_confident_grades_with_their_trait_scores(app):
    proposal, grades = _scored(app, {"promote": True, "traits": PASSED})
    assert proposal.status == "released" and proposal.trait_scores == {"content": 3}
    assert [(g.score, g.trait_scores) for g in grades] == [(3, {"content": 3})]


@pytest.mark.parametrize("gate", [{"promote": True, "traits": FAILED}, {"promote": True}],
                         ids=["a trait failed", "trained before trait checks"])
def test_grades_wait_for_review_while_a_trait_failed_or_was_never_measured(app, gate):
    """Threshold 0: only the traits' verdict can keep it back."""
    proposal, grades = _scored(app, gate)
    assert proposal.status == "pending" and proposal.trait_scores == {"content": 3}
    assert grades == []


def test_a_proposal_is_as_sure_as_its_least_sure_trait(app):
    """Overall sure (sigma 0.05), the trait not (sigma 2): the proposal's confidence is the trait's,
    and at a 50% threshold it waits, though the overall score alone would have gone out."""
    proposal, grades = _scored(app, {"promote": True, "traits": PASSED}, threshold=0.5, trait_sigma=2.0)
    trait_confidence = rounding.confidence(3.0, rounding.default_cuts(1, 6), 1, 2.0)
    assert rounding.confidence(3.0, rounding.default_cuts(1, 6), 1, 0.05) > 0.99
    assert proposal.confidence == pytest.approx(trait_confidence) and trait_confidence < 0.5
    assert proposal.status == "pending" and grades == []
