"""The dashboard's quality report shows each trait's agreement with the teacher and its check, and
says in plain words why AI grades wait for review while a trait of the version in service fails or
was never measured (auto-release holds them, worker/handlers/scoring.py). Versions stored before
trait checks (no `traits` in their metrics or gate) still render. Flask test client, SQLite."""
from __future__ import annotations

import html
import re

from lti_app.extensions import db
from lti_app.models import Assignment, FeedbackMode, ModelVersion, Role
from lti_app.models.base import utcnow
from tests.coursework.helpers import build_world, login

HELD_OUT = {"qwk": 0.81, "smd": 0.02, "n": 20, "exact": 0.6, "adjacent": 0.95, "scale": [1, 6],
            "confusion": [[1, 0, 0, 0, 0, 0], [0, 4, 0, 0, 0, 0], [0, 0, 5, 0, 0, 0], [0, 0, 0, 5, 0, 0],
                          [0, 0, 0, 0, 4, 0], [0, 0, 0, 0, 0, 1]]}
COHESION = {"qwk": 0.04, "smd": -0.3, "n": 20, "scale": [1, 5],
            "confusion": [[1, 0, 0, 0, 0], [4, 0, 0, 0, 0], [5, 0, 0, 0, 0], [5, 0, 0, 0, 0], [5, 0, 0, 0, 0]]}
THRESHOLDS = {"min_qwk": 0.70, "max_smd": 0.15, "max_group_smd": 0.10, "group_min_n": 10}


def _text(markup: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", markup)).split())


def _dashboard(app, metrics: dict, gate: dict, mode=FeedbackMode.AUTO_RELEASE) -> str:
    """The overview page of course A's assignment (trait "cohesion", 1-5) served by a v1 with
    these stored `metrics` and `gate`."""
    world = build_world(app)
    with app.app_context():
        a = db.session.get(Assignment, world.assignment_a)
        a.feedback_mode = mode
        mv = ModelVersion(assignment_id=a.id, version=1, approach="frozen-ridge", path="/nowhere/v1",
                          onnx_path="/nowhere/v1/model.onnx", status="promoted", n_train=80, metrics=metrics,
                          gate=gate, promoted_at=utcnow())
        db.session.add(mv)
        db.session.flush()
        a.current_model_id = mv.id
        db.session.commit()
    client = app.test_client()
    login(client, app, course_id=world.course_a, user_id=world.teacher_a, role=Role.INSTRUCTOR,
          platform_id=world.platform)
    page = client.get(f"/dashboard/a/{world.assignment_a}")
    assert page.status_code == 200
    return page.get_data(as_text=True)


def _by_id(page: str, element_id: str) -> str:
    found = re.search(rf'<(\w+)[^>]* id="{element_id}"[^>]*>(.*?)</\1>', page, re.S)
    return _text(found.group(2)) if found else ""


def test_a_failing_trait_is_shown_with_its_figures_and_why_grades_wait(app):
    page = _dashboard(app, {"held_out": {**HELD_OUT, "traits": {"cohesion": COHESION}}},
                      {"promote": True, "reasons": ["passed: QWK 0.810, SMD +0.020"], "thresholds": THRESHOLDS,
                       "traits": {"cohesion": {"passed": False, "reasons": ["QWK 0.040 is below 0.70"]}}})
    row = _by_id(page, "traits")
    assert "cohesion 20 0.040 -0.30 did not pass: it agreed with your scores too little (0.040; at least 0.70 is " \
           "needed)" in row, row
    hold = _by_id(page, "trait-hold")
    assert hold.startswith("AI grades wait for your review, whatever their confidence, because students would see "
                           "the trait scores of version 1"), hold
    assert "cohesion: it agreed with your scores too little (0.040; at least 0.70 is needed)" in hold


def test_traits_that_passed_hold_nothing(app):
    passed = {**COHESION, "qwk": 0.78, "smd": 0.05}
    page = _dashboard(app, {"held_out": {**HELD_OUT, "traits": {"cohesion": passed}}},
                      {"promote": True, "reasons": [], "thresholds": THRESHOLDS,
                       "traits": {"cohesion": {"passed": True, "reasons": []}}})
    assert "cohesion 20 0.780 +0.05 passed" in _by_id(page, "traits")
    assert 'id="trait-hold"' not in page


def test_a_version_trained_before_trait_checks_still_renders_and_says_grades_wait(app):
    page = _dashboard(app, {"held_out": HELD_OUT, "parity": {"traits": {"cohesion": {"qwk_drop": 0.0}}}},
                      {"promote": True, "reasons": ["passed: QWK 0.810, SMD +0.020"]})
    assert "were not measured: it was trained before Gradeloop checked them" in _by_id(page, "traits-summary")
    assert "no one has measured how well they agree with yours" in _by_id(page, "trait-hold")


def test_a_version_without_trait_scores_says_nothing_about_traits(app):
    page = _dashboard(app, {"held_out": HELD_OUT}, {"promote": True, "reasons": []})
    assert 'id="trait-hold"' not in page and 'id="traits"' not in page
