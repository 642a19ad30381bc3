"""Auto-release and trait scores: a confident proposal goes out on its overall confidence, but the
grade carries only the trait scores that passed their check on the version in service (measured at
training, `worker.ml.trait_checks`), and its written feedback has no line on the others; the
proposal keeps every trait score for the teacher. A version trained before trait checks (no
verdicts stored) has all of them left out. A real tiny ONNX model with traits scores the essays
(tests/worker/ml/tinymodel.py)."""
from __future__ import annotations

import logging
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
PASSED = {"passed": True, "reasons": []}
FAILED = {"passed": False, "reasons": ["QWK 0.040 is below 0.70"]}


def _scored(app, gate: dict, threshold: float = 0.0, trait_sigma: float = 0.05,
            traits=("content",)) -> tuple[AiProposal, list]:
    """A 1-6 course with `traits`, served by a v1 answering 3 for each (raw 3.0, the middle of its
    band: sure when sigma is small), whose stored gate is `gate`; one essay scored."""
    with app.app_context():
        a = make_assignment(feedback_mode=FeedbackMode.AUTO_RELEASE, confidence_threshold=threshold,
                            traits=[{"name": name, "min": 1, "max": 6} for name in traits])
        model_dir = tinymodel.make_version(
            versions.version_dir(app, a.id, 1), raw=0.4, assignment_id=a.id,
            targets=[{"name": "overall", "lo": 1, "hi": 6}] + [{"name": name, "lo": 1, "hi": 6} for name in traits],
            cuts=[rounding.default_cuts(1, 6)] * (1 + len(traits)), sigma=[0.05] + [trait_sigma] * len(traits))
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


def test_a_version_whose_traits_all_passed_releases_grades_with_their_trait_scores(app):
    proposal, grades = _scored(app, {"promote": True, "traits": {"content": PASSED}})
    assert proposal.status == "released" and proposal.trait_scores == {"content": 3}
    assert [(g.score, g.trait_scores) for g in grades] == [(3, {"content": 3})]
    assert "Content" in grades[0].comment, grades[0].comment


@pytest.mark.parametrize("gate", [{"promote": True, "traits": {"content": FAILED}}, {"promote": True}],
                         ids=["a trait failed", "trained before trait checks"])
def test_the_grade_goes_out_without_the_trait_scores_that_did_not_pass(app, gate):
    """Threshold 0: the grade is released; only its trait score and the feedback's trait line are left out."""
    proposal, grades = _scored(app, gate)
    assert proposal.status == "released" and proposal.trait_scores == {"content": 3}, "the teacher's copy keeps it"
    assert [(g.score, g.trait_scores) for g in grades] == [(3, {})]
    assert "Content" not in grades[0].comment and proposal.feedback == grades[0].comment, grades[0].comment


def test_a_proposal_kept_for_review_has_feedback_on_every_trait(app):
    """Below the threshold the proposal waits for the teacher, who may approve it with its trait
    scores: its feedback must speak of them, whatever the version's trait checks said."""
    proposal, grades = _scored(app, {"promote": True, "traits": {"content": FAILED}}, threshold=1.5)   # never reached
    assert proposal.status == "pending" and grades == []
    assert "Content" in proposal.feedback, proposal.feedback


def test_only_the_traits_that_passed_go_to_the_student(app):
    proposal, grades = _scored(app, {"promote": True, "traits": {"content": PASSED, "style": FAILED}},
                               traits=("content", "style"))
    assert proposal.trait_scores == {"content": 3, "style": 3}
    assert [g.trait_scores for g in grades] == [{"content": 3}]
    assert "Content" in grades[0].comment and "Style" not in grades[0].comment, grades[0].comment


def test_an_unsure_trait_does_not_keep_a_confident_grade_back(app):
    """Overall sure (sigma 0.05), the trait not (sigma 2): the proposal's confidence is the overall
    score's, and at a 50% threshold the grade goes out (traits no longer gate release)."""
    proposal, grades = _scored(app, {"promote": True, "traits": {"content": PASSED}}, threshold=0.5, trait_sigma=2.0)
    assert rounding.confidence(3.0, rounding.default_cuts(1, 6), 1, 2.0) < 0.5
    assert proposal.confidence == pytest.approx(rounding.confidence(3.0, rounding.default_cuts(1, 6), 1, 0.05))
    assert proposal.status == "released" and len(grades) == 1


def _logged(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.getMessage().startswith("event=proposal_")]


def test_the_release_log_line_names_the_trait_scores_left_out(app, caplog):
    """An administrator answering "why has my student no Style score?" finds it in the worker's log."""
    with caplog.at_level(logging.INFO, logger="gradeloop.worker"):
        _scored(app, {"promote": True, "traits": {"content": PASSED, "style": FAILED, "voice": FAILED}},
                traits=("content", "style", "voice"))
    [line] = _logged(caplog)
    assert line.startswith("event=proposal_released ") and " traits_left_out='style,voice'" in line, line


def test_a_release_with_every_trait_score_says_none_was_left_out(app, caplog):
    with caplog.at_level(logging.INFO, logger="gradeloop.worker"):
        _scored(app, {"promote": True, "traits": {"content": PASSED}})
    [line] = _logged(caplog)
    assert line.startswith("event=proposal_released ") and " traits_left_out=''" in line, line


def test_a_proposal_kept_for_review_leaves_nothing_out(app, caplog):
    """Nothing reached the student: the line does not speak of left-out scores."""
    with caplog.at_level(logging.INFO, logger="gradeloop.worker"):
        _scored(app, {"promote": True, "traits": {"content": FAILED}}, threshold=1.5)
    [line] = _logged(caplog)
    assert line.startswith("event=proposal_for_review ") and "traits_left_out" not in line, line
