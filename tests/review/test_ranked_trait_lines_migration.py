"""Migration 0015: pending proposals written by an earlier release lose the trait lines that ranked
the student against the class (approving one sent "8% scored higher" to the student and the LMS);
decided proposals and every other line stay as they were. On SQLite and PostgreSQL."""
from __future__ import annotations

from flask_migrate import downgrade, upgrade

from lti_app.extensions import db
from lti_app.models import AiProposal, Submission
from tests.worker.coursework import make_assignment_row

BEFORE = "0014_blind_check"
OLD = ("Your claim is clear and you keep to it.\n"
       "Organization: 3 of 5 (the course's 285 graded essays: median 2, 8% scored higher).\n"
       "Evidence: 1 of 5 (all essays graded for this assignment scored higher).\n"
       "Conventions (2 of 5): Check your capitals (the teacher's words).\n"
       "Cohesion: 4.5 of 5 (about 1 in 10 essays graded for this assignment scored higher).")
NEW = ("Your claim is clear and you keep to it.\n"
       "Organization: 3 of 5.\n"
       "Evidence: 1 of 5.\n"
       "Conventions (2 of 5): Check your capitals (the teacher's words).\n"
       "Cohesion: 4.5 of 5.")


def _feedback_after_upgrade(app) -> dict:
    with app.app_context():
        upgrade(revision=BEFORE)
        assignment = make_assignment_row()
        found = {}
        for status in ("pending", "approved"):
            sub = Submission(assignment_id=assignment.id, text="An essay. " * 30, word_count=60)
            db.session.add(sub)
            db.session.flush()
            db.session.add(AiProposal(submission_id=sub.id, score=3, confidence=0.8, feedback=OLD, status=status))
        db.session.commit()
        upgrade()
        db.session.expire_all()
        for proposal in db.session.scalars(db.select(AiProposal)):
            found[proposal.status] = proposal.feedback
        downgrade(revision=BEFORE)   # a no-op: the ranking does not come back, nothing fails
        db.session.remove()
        db.engine.dispose()
    return found


def _check(found: dict) -> None:
    assert found["pending"] == NEW
    assert found["approved"] == OLD   # what was sent is history


def test_pending_proposals_lose_ranked_trait_lines(empty_database_app):
    _check(_feedback_after_upgrade(empty_database_app))
