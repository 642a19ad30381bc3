"""A constraint violation on PostgreSQL (a bug: two rows for one LMS user, a grade for an essay that is
gone) logged by Flask's handler for a 500 and by `log.exception` in a handler or the worker: the log
keeps the error class, the constraint, the table and the statement, but not the values PostgreSQL
quotes in its DETAIL line (`Key (platform_id, sub)=(1, ada.lovelace@school.example) already exists`),
which are personal data (`lti_app/db_error_log.py`, docs/privacy.md)."""
from __future__ import annotations

import logging
import sys

import pytest
from sqlalchemy.exc import IntegrityError

from lti_app.extensions import db
from lti_app.models import Grade, GradeSource, Platform, User

pytestmark = pytest.mark.postgres

EMAIL_SUB = "ada.lovelace@school.example"
MISSING_ESSAY = 987654321


@pytest.fixture
def app(make_app, own_postgres):
    return make_app(database_url=own_postgres)


def _violation(app, rows) -> IntegrityError:
    """The IntegrityError PostgreSQL raises for committing `rows()` (the session rolled back)."""
    with app.app_context():
        try:
            db.session.add_all(rows())
            db.session.commit()
        except IntegrityError as exc:
            db.session.rollback()
            return exc
    raise AssertionError("no constraint was violated")


def _platform_id(app) -> int:
    with app.app_context():
        platform = Platform(issuer="https://lms.example", client_id="tool-1", auth_login_url="https://lms.example/a",
                            auth_token_url="https://lms.example/t", key_set_url="https://lms.example/k")
        db.session.add(platform)
        db.session.commit()
        return platform.id


def _logged(app, exc: BaseException, caplog) -> str:
    """What Flask's 500 handler and a `log.exception` write for `exc`, as the log's formatter writes it."""
    production = logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s")
    caplog.clear()
    with caplog.at_level(logging.INFO), app.test_request_context("/coursework/"):
        try:
            raise exc
        except IntegrityError:
            app.log_exception(sys.exc_info())
            logging.getLogger("worker.consumer").exception("job failed: %s", exc)
    assert len(caplog.records) == 2
    return caplog.text + "\n".join(production.format(r) for r in caplog.records)


def test_a_unique_violation_is_logged_without_the_key_values(app, caplog):
    platform_id = _platform_id(app)
    exc = _violation(app, lambda: [User(platform_id=platform_id, sub=EMAIL_SUB),
                                   User(platform_id=platform_id, sub=EMAIL_SUB)])
    assert EMAIL_SUB in str(exc)   # what PostgreSQL says, and the log used to repeat
    logged = _logged(app, exc, caplog)
    assert EMAIL_SUB not in logged, logged
    assert "UniqueViolation" in logged and "uq_users_platform_id" in logged and "INSERT INTO users" in logged
    assert "Key (platform_id, sub)=(…) already exists" in logged


def test_a_foreign_key_violation_is_logged_without_the_key_values(app, caplog):
    exc = _violation(app, lambda: [Grade(submission_id=MISSING_ESSAY, score=3, score_min=1, score_max=6,
                                                     source=GradeSource.TEACHER)])
    assert str(MISSING_ESSAY) in str(exc)
    logged = _logged(app, exc, caplog)
    assert str(MISSING_ESSAY) not in logged, logged
    assert "ForeignKeyViolation" in logged and "fk_grades_submission_id_submissions" in logged
    assert 'Key (submission_id)=(…) is not present in table "submissions"' in logged
