"""Migration 0014 turns the blind check on for existing assignments and records the upgrade's time
as when it was turned on: the proposals already in their queues were in view, so they stay in view;
one made after the upgrade is hidden. On SQLite and PostgreSQL."""
from __future__ import annotations

from flask_migrate import upgrade

from lti_app.extensions import db
from lti_app.models import AiProposal, Assignment, ModelVersion, Submission, User
from lti_app.models.base import utcnow
from lti_app.review import blind
from lti_app.timestamps import as_utc
from tests.worker.coursework import make_assignment_row

BEFORE = "0013_lookup_indexes"


def _blind_essay(assignment_id: int, platform_id: int, n: int) -> int:
    """A new student's essay of the blind sample (raw columns: the database may be at `BEFORE`)."""
    while True:
        user = User(platform_id=platform_id, sub=f"migration-student-{n}")
        db.session.add(user)
        db.session.flush()
        sub = Submission(assignment_id=assignment_id, user_id=user.id, text="An essay. " * 30, word_count=60)
        db.session.add(sub)
        db.session.flush()
        n += 1
        if blind.chosen(assignment_id, sub.id):
            return sub.id


def _check(app) -> None:
    with app.app_context():
        upgrade(revision=BEFORE)
        row = make_assignment_row()
        platform_id = db.session.execute(db.text("SELECT platform_id FROM courses WHERE id = :c"),
                                         {"c": row.course_id}).scalar()
        version = ModelVersion(assignment_id=row.id, version=1, status="promoted", approach="frozen-ridge", path="m/1")
        db.session.add(version)
        db.session.flush()
        seen = AiProposal(submission_id=_blind_essay(row.id, platform_id, 0), model_version_id=version.id, score=4,
                          confidence=0.9, feedback="Good.", status="pending")
        db.session.add(seen)
        db.session.commit()
        seen_id, version_id, started = seen.id, version.id, utcnow()
        upgrade()
        db.session.expire_all()
        assignment = db.session.get(Assignment, row.id)
        assert assignment.blind_check and started <= as_utc(assignment.blind_check_since) <= utcnow()
        assert not blind.hides(assignment, db.session.get(AiProposal, seen_id)), "it was in the queue already"
        later = AiProposal(submission_id=_blind_essay(row.id, platform_id, 100), model_version_id=version_id,
                           score=4, confidence=0.9, feedback="Good.", status="pending")
        db.session.add(later)
        db.session.commit()
        assert blind.hides(assignment, later)
        db.session.remove()
        db.engine.dispose()


def test_existing_assignments_get_the_upgrades_time(empty_database_app):
    _check(empty_database_app)
