"""The held-out essays graded without the current model's proposal in view (blind grades, grades given
before it proposed) decide "beats the model in service" alone from `gate.COMPARED_MIN` of them
(`gate.compared_on`): on the whole held-out set the proposals the teacher approved are its own scores,
and a teacher who approves everything kept the model in service whatever the blind grades said
(blindwalk: 0.913 vs 0.952 on 28 essays, 21 of them approved; 0.825 vs 0.741 on the blind ones).
The validity checks stay on the whole set. `compared_on` is tested on Examples in memory; the
pipeline with training faked (`test_pipeline_guards.FakeTraining`, whose whole-set figures say
the opposite of the blind ones), a real database, real proposals and grades."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from lti_app.dashboard import report, wording
from lti_app.extensions import db
from lti_app.models import Assignment, Grade, ModelVersion, Submission, TrainingRun
from tests.worker.coursework import add_graded, make_assignment
from tests.worker.ml.test_gate_on_own_proposals import _review_mode_grades, _v1
from tests.worker.ml.test_pipeline_guards import FakeTraining
from worker.ml import gate, pipeline, scorer
from worker.ml.examples import Examples


def _held(n: int, proposed: int = 0) -> Examples:
    """`n` held-out essays, the first `proposed` graded with a model's proposal in view."""
    return Examples(texts=[f"essay {i}" for i in range(n)], scores=[1 + i % 6 for i in range(n)],
                    score_min=1, score_max=6, had_proposal=[i < proposed for i in range(n)])


def test_the_essays_graded_without_its_proposal_are_compared_on_alone():
    held = _held(30, proposed=10)   # approved proposals: the current model's own scores
    teacher = [int(s) for s in held.scores]
    new = teacher[:]                         # right on every essay
    current = teacher[:10] + [3] * 20        # right where approved, a constant 3 elsewhere
    compared = gate.compared_on(held, new, current)
    assert compared["essays"] == 20 and compared["new_qwk"] == pytest.approx(1.0)
    assert compared["current_qwk"] < 0.1 and compared["why"] == "graded without its proposal"
    whole = {"qwk": 0.85, "smd": 0.0, "scale": [1, 6], "confusion": [[1], [1]]}
    decision = gate.decide(whole, {"qwk": 0.95}, compared=compared)
    assert decision["promote"] and decision["compared_on"] == compared, decision["reasons"]
    assert "on the 20 held-out essays graded without its proposal in view" in decision["reasons"][0]


def test_below_compared_min_the_whole_held_out_set_decides():
    held = _held(30, proposed=30 - gate.COMPARED_MIN + 1)
    assert gate.compared_on(held, held.scores, held.scores) is None
    whole = {"qwk": 0.85, "smd": 0.0, "scale": [1, 6], "confusion": [[1], [1]]}
    decision = gate.decide(whole, {"qwk": 0.95}, compared=None)
    assert not decision["promote"] and "compared_on" not in decision
    assert "on the same held-out essays" in decision["reasons"][-1]


def test_a_course_without_proposals_or_with_one_teacher_score_gets_no_comparison_of_its_own():
    """No held-out essay had a proposal: the whole set is those essays, and no wording about
    approved proposals applies; all one teacher score: no QWK to compare."""
    held = _held(30)
    assert gate.compared_on(held, [3] * 30, held.scores) is None
    same = Examples(texts=[f"essay {i}" for i in range(30)], scores=[4] * 30, score_min=1, score_max=6,
                    had_proposal=[i < 5 for i in range(30)])
    assert gate.compared_on(same, [4] * 30, [3] * 30) is None


def test_an_older_versions_approved_proposal_is_no_essay_graded_without_a_proposal():
    """A proposal of the version before the one in service, approved after it went into service,
    had a model's score in view: it does not count among the essays that decide alone."""
    held = _held(30, proposed=11)   # 11 approved, whichever version proposed them: 19 without
    assert gate.without_proposal(held) == list(range(11, 30))
    assert gate.compared_on(held, held.scores, [3] * 30) is None


def test_an_erasure_run_is_not_compared_on_them_either():
    held = _held(30, proposed=5)
    compared = gate.compared_on(held, [3] * 30, held.scores)
    whole = {"qwk": 0.85, "smd": 0.0, "scale": [1, 6], "confusion": [[1], [1]]}
    decision = gate.decide(whole, {"qwk": 0.95}, must_beat_current=False, compared=compared)
    assert decision["promote"] and decision["checks"]["beats_current"] is None and "compared_on" not in decision


class _HoldsOut(FakeTraining):
    """FakeTraining holding out the first `held` essays; the new version predicts `new(examples, i)`."""

    def __init__(self, monkeypatch, held: int, new):
        super().__init__(monkeypatch)
        self.held, self.new = held, new

    def retrain(self, examples, config, seen_ids=None, progress=None):
        result = super().retrain(examples, config, seen_ids, progress)
        result.held = list(range(self.held))
        result.held_out_scores = [self.new(examples, i) for i in range(self.held)]
        return result


@pytest.fixture
def term(make_app):
    """30 essays graded 1-6 by hand (no proposal in view); v1 put in service on them, then the
    first five graded on v1's proposals of 3, approved as proposed."""
    app = make_app()
    with app.app_context():
        a = make_assignment(min_graded=15, retrain_every=5)
        for i, grade in enumerate(add_graded(a, 30)):
            grade.score = 1 + i % 6
        db.session.commit()
        aid = a.id
    return SimpleNamespace(app=app, aid=aid)


def _v1_answers(monkeypatch, app, right: bool) -> None:
    """The model in service: the teacher's own score on every essay (`right`), or 3 on every one."""
    with app.app_context():
        by_text = {s.text: g.score for s, g in db.session.execute(
            db.select(Submission, Grade).join(Grade, Grade.submission_id == Submission.id))}
    monkeypatch.setattr(scorer, "score", lambda model, texts, **_: [
        scorer.Prediction(score=by_text[t] if right else 3, raw=3.0, confidence=0.9) for t in texts])


def _said(app, version_id) -> str:
    with app.app_context():
        run = db.session.scalar(db.select(TrainingRun).where(TrainingRun.model_version_id == version_id))
        return wording.verdict(db.session.get(ModelVersion, version_id), run.message)


def _blind_run(term, monkeypatch, held: int, new_right: bool, v1_right: bool):
    """v1, then v2 judged on the first `held` essays: five of them v1's approved proposals (it scores
    1.000 on the whole set, as for a teacher who approves everything), the rest graded without them."""
    app, aid = term.app, term.aid
    fake = _HoldsOut(monkeypatch, held, lambda ex, i: int(ex.scores[i]) if new_right else 3)
    _review_mode_grades(app, aid, _v1(app, aid, fake))
    _v1_answers(monkeypatch, app, v1_right)
    fake.new_qwk, fake.current_qwk = 0.85, 1.0
    return pipeline.train_assignment(app, aid)


def test_a_better_version_wins_on_the_blind_grades_though_the_approved_proposals_favour_the_one_in_use(
        term, monkeypatch):
    v2 = _blind_run(term, monkeypatch, held=25, new_right=True, v1_right=False)
    assert v2.status == "promoted", v2.gate["reasons"]
    assert v2.gate["held_out_on_own_proposals"] == 5
    assert v2.gate["compared_on"]["essays"] == 20 and v2.gate["compared_on"]["new_qwk"] == pytest.approx(1.0)
    assert v2.gate["checks"]["qwk"] is True and v2.metrics["current_on_held_out"]["qwk"] == 1.0
    assert any("on the 20 held-out essays graded without its proposal in view" in r for r in v2.gate["reasons"])
    said = _said(term.app, v2.id)
    assert "On the 20 of them you graded without seeing a proposal of the version it replaced, it agreed 1.000" \
        in said, said


def test_a_worse_version_loses_on_them_and_the_teacher_is_told_which_essays_decided(term, monkeypatch):
    v2 = _blind_run(term, monkeypatch, held=25, new_right=False, v1_right=True)
    assert v2.status == "rejected" and v2.gate["checks"]["beats_current"] is False
    assert not any("by construction" in r for r in v2.gate["reasons"]), v2.gate["reasons"]
    said = _said(term.app, v2.id)
    assert "On the 20 essays you graded without seeing its proposal, the new version agreed" in said, said
    assert "(0.000 vs 1.000)" in said and "You kept the score" not in said, said
    with term.app.app_context():   # the "why two numbers" note gives the figure those essays gave it
        v1 = db.session.get(ModelVersion, db.session.get(Assignment, term.aid).current_model_id)
        note = report.comparison_note(db.session.get(ModelVersion, v2.id), v1)
    assert "20 essays held back to test version 2 that you graded without seeing its proposal, and got 1.000" \
        in note, note


def test_too_few_of_them_leave_the_whole_set_deciding_and_say_how_many_more(term, monkeypatch):
    v2 = _blind_run(term, monkeypatch, held=16, new_right=True, v1_right=False)
    assert v2.status == "rejected" and "compared_on" not in v2.gate
    assert any("11 were graded with no proposal in view, and from 20 those alone decide" in r
               for r in v2.gate["reasons"]), v2.gate["reasons"]
    said = _said(term.app, v2.id)
    assert "(0.850 vs 1.000)" in said and "11 of them you graded without seeing its proposal" in said, said
    assert "so 9 more would do" in said and "about one essay in 5" in said, said
