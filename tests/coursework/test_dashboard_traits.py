"""The dashboard's quality report shows each trait's agreement with the teacher and its check, and
says in plain words which trait scores auto-released grades leave out, and why, while a trait of
the version in service did not pass or was never measured (worker/handlers/scoring.py leaves them
out, `trait_checks.withheld`). Versions stored before trait checks (no `traits` in their metrics or
gate; parity stored per form, as the export writes it) still render. Flask test client, SQLite."""
from __future__ import annotations

import html
import re

from lti_app.extensions import db
from lti_app.models import Assignment, FeedbackMode, ModelVersion
from lti_app.models.base import utcnow
from tests.coursework.helpers import build_world, teacher_dashboard

HELD_OUT = {"qwk": 0.81, "smd": 0.02, "n": 20, "exact": 0.6, "adjacent": 0.95, "scale": [1, 6],
            "confusion": [[1, 0, 0, 0, 0, 0], [0, 4, 0, 0, 0, 0], [0, 0, 5, 0, 0, 0], [0, 0, 0, 5, 0, 0],
                          [0, 0, 0, 0, 4, 0], [0, 0, 0, 0, 0, 1]]}
COHESION = {"qwk": 0.04, "smd": -0.3, "n": 20, "scale": [1, 5],
            "confusion": [[1, 0, 0, 0, 0], [4, 0, 0, 0, 0], [5, 0, 0, 0, 0], [5, 0, 0, 0, 0], [5, 0, 0, 0, 0]]}
THRESHOLDS = {"min_qwk": 0.70, "max_smd": 0.15, "max_group_smd": 0.10, "group_min_n": 10}


def _text(markup: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", markup)).split())


def _dashboard(app, metrics: dict, gate: dict, mode=FeedbackMode.AUTO_RELEASE, traits=None) -> str:
    """The overview page of course A's assignment (trait "cohesion", 1-5) served by a v1 with
    these stored `metrics` and `gate`."""
    world = build_world(app)
    with app.app_context():
        a = db.session.get(Assignment, world.assignment_a)
        a.feedback_mode = mode
        if traits is not None:
            a.traits = traits
        mv = ModelVersion(assignment_id=a.id, version=1, approach="frozen-ridge", path="/nowhere/v1",
                          onnx_path="/nowhere/v1/model.onnx", status="promoted", n_train=80, metrics=metrics,
                          gate=gate, promoted_at=utcnow())
        db.session.add(mv)
        db.session.flush()
        a.current_model_id = mv.id
        db.session.commit()
    return teacher_dashboard(app, world)


def _by_id(page: str, element_id: str) -> str:
    found = re.search(rf'<(\w+)[^>]* id="{element_id}"[^>]*>(.*?)</\1>', page, re.S)
    return _text(found.group(2)) if found else ""


# The parity record as `worker.ml.export` stores it: per form, each with its traits.
PARITY = {"int8": {"n": 100, "qwk_torch": 0.8, "qwk_onnx": 0.8, "qwk_drop": 0.0,
                   "traits": {"cohesion": {"qwk_torch": 0.7, "qwk_onnx": 0.7, "qwk_drop": 0.0}}},
          "shipped": "int8", "max_qwk_drop": 0.005}


def test_a_failing_trait_is_shown_with_its_figures_and_its_score_left_out(app):
    page = _dashboard(app, {"held_out": {**HELD_OUT, "traits": {"cohesion": COHESION}}, "parity": PARITY},
                      {"promote": True, "reasons": ["passed: QWK 0.810, SMD +0.020"], "thresholds": THRESHOLDS,
                       "traits": {"cohesion": {"passed": False, "reasons": ["QWK 0.040 is below 0.70"]}}})
    row = _by_id(page, "traits")
    assert "cohesion 20 0.040 -0.30 did not pass: it agreed with your scores too little (0.040; at least 0.70 is " \
           "needed)" in row, row
    notice = _by_id(page, "trait-withheld")
    assert notice == ("Auto-released grades do not include the cohesion score yet: cohesion: it agreed with your "
                      "scores too little (0.040; at least 0.70 is needed). You can add them on the grading page; "
                      "they are included once a training shows they agree with yours."), notice


def test_a_trait_scored_on_too_few_essays_asks_for_more(app):
    few = {"qwk": 1.0, "smd": 0.0, "n": 2, "scale": [1, 5], "confusion": [[1, 0, 0, 0, 0], [0, 1, 0, 0, 0]] + [[0] * 5] * 3}
    page = _dashboard(app, {"held_out": {**HELD_OUT, "traits": {"cohesion": few}}},
                      {"promote": True, "reasons": [], "thresholds": THRESHOLDS,
                       "traits": {"cohesion": {"passed": False, "reasons": ["only 2 ..."]}}})
    assert ("only 2 of the essays kept back had your score for cohesion (at least 5 are needed): score cohesion on "
            "more of the essays you grade") in _by_id(page, "trait-withheld")


def test_traits_that_passed_are_not_left_out(app):
    passed = {**COHESION, "qwk": 0.78, "smd": 0.05}
    page = _dashboard(app, {"held_out": {**HELD_OUT, "traits": {"cohesion": passed}}, "parity": PARITY},
                      {"promote": True, "reasons": [], "thresholds": THRESHOLDS,
                       "traits": {"cohesion": {"passed": True, "reasons": []}}})
    assert "cohesion 20 0.780 +0.05 passed" in _by_id(page, "traits")
    assert 'id="trait-withheld"' not in page


def test_a_version_trained_before_trait_checks_says_its_trait_scores_are_left_out(app):
    """The parity record of such a version is per form (never a flat "traits" key): the page must
    not depend on it. The assignment has traits and the version no verdicts: all are left out."""
    page = _dashboard(app, {"held_out": HELD_OUT, "parity": PARITY},
                      {"promote": True, "reasons": ["passed: QWK 0.810, SMD +0.020"]})
    assert "were not measured: it was trained before Gradeloop checked them" in _by_id(page, "traits-summary")
    assert _by_id(page, "trait-withheld") == (
        "Auto-released grades do not include the cohesion score yet: version 1, in use, was trained before Gradeloop "
        "checked trait scores; a training measures them once enough essays have been graded since it was trained: "
        "a fifth of all graded essays, or 20 when there are more than 100 (“Train now” starts one then). You can add "
        "them on the grading page; they are included once a training shows they agree with yours.")


def test_in_review_mode_nothing_is_left_out(app):
    page = _dashboard(app, {"held_out": HELD_OUT, "parity": PARITY}, {"promote": True, "reasons": []},
                      mode=FeedbackMode.REVIEW)
    assert 'id="trait-withheld"' not in page


def test_an_assignment_without_traits_says_nothing_about_them(app):
    page = _dashboard(app, {"held_out": HELD_OUT}, {"promote": True, "reasons": []}, traits=[])
    assert 'id="trait-withheld"' not in page and 'id="traits"' not in page and 'id="traits-summary"' not in page
