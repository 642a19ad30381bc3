"""The review queue and a proposal's page show its trait scores and mark those the course model in
use has not been shown to give as the teacher does: auto-release leaves them out
(`worker.ml.trait_checks.withheld`), but "Approve" gives them to the student, and the queue's
"Approve the ticked proposals" used to hand them out unseen (the queue showed the overall score only)."""
from __future__ import annotations

import re

from lti_app.extensions import db
from lti_app.models import AiProposal, Assignment, ModelVersion, Role
from tests.coursework.helpers import build_world, login


def _pages(app, client, gate: dict) -> tuple[str, str]:
    """(queue, proposal page) of course A's assignment (trait "cohesion"), served by v1 with `gate`."""
    world = build_world(app)
    with app.app_context():
        mv = ModelVersion(assignment_id=world.assignment_a, version=1, status="promoted", approach="frozen-ridge",
                          path="/nowhere", metrics={}, gate=gate)
        db.session.add(mv)
        db.session.flush()
        db.session.get(Assignment, world.assignment_a).current_model_id = mv.id
        proposal = AiProposal(submission_id=world.essay_a, score=4, confidence=0.9, trait_scores={"cohesion": 2},
                              feedback="Clear.", status="pending", unusual=[], model_version_id=mv.id)
        db.session.add(proposal)
        db.session.commit()
        proposal_id = proposal.id
    login(client, app, course_id=world.course_a, user_id=world.teacher_a, role=Role.INSTRUCTOR,
          platform_id=world.platform)
    queue = client.get(f"/review/a/{world.assignment_a}").get_data(as_text=True)
    page = client.get(f"/review/a/{world.assignment_a}/p/{proposal_id}").get_data(as_text=True)
    return queue, page


def _plain(markup: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", markup).split())


def test_trait_scores_never_measured_are_shown_and_marked_before_approving(app, client):
    queue, page = _pages(app, client, {"promote": True, "reasons": []})   # trained before trait checks
    row = _plain(re.search(r'<tr data-proposal=.*?</tr>', queue, re.S).group(0))
    assert "4 of 6; cohesion 2 (unchecked)" in row, row
    assert 'id="unchecked-traits"' in queue and 'id="unchecked-traits"' in page
    assert "cohesion 2 (unchecked)" in _plain(page)


def test_a_trait_that_passed_its_check_is_not_marked(app, client):
    queue, page = _pages(app, client, {"promote": True, "reasons": [],
                                       "traits": {"cohesion": {"passed": True, "reasons": []}}})
    assert "4 of 6; cohesion 2" in _plain(queue) and "(unchecked)" not in queue + page
    assert 'id="unchecked-traits"' not in queue + page


def test_a_proposal_is_marked_by_the_version_that_made_it(app, client):
    """A v1 proposal still pending after v2 (every trait passed) was put in service: auto-release
    would leave its cohesion score out (the worker asks the proposal's version), so it stays marked."""
    queue, page = _pages(app, client, {"promote": True, "reasons": []})   # v1: never measured
    with app.app_context():
        a = db.session.scalar(db.select(Assignment))
        v2 = ModelVersion(assignment_id=a.id, version=2, status="promoted", approach="frozen-ridge", path="/nowhere2",
                          metrics={}, gate={"promote": True, "reasons": [],
                                            "traits": {"cohesion": {"passed": True, "reasons": []}}})
        db.session.add(v2)
        db.session.flush()
        a.current_model_id = v2.id
        db.session.commit()
        assignment_id = a.id
    queue = client.get(f"/review/a/{assignment_id}").get_data(as_text=True)
    assert "cohesion 2 (unchecked)" in _plain(queue)
