"""A job that fails on a database error ends as a dead letter whose reason names the error, not
what the statement stored: no essay, feedback or comment in `dead_letters.reason` or in the
worker's log, and no copy of it anywhere else (the broker's dead queue is retired). Dead letters are deleted after `GRADELOOP_DEAD_LETTER_DAYS`."""
from __future__ import annotations

import logging
from datetime import timedelta

import pytest

from lti_app.events import envelope
from lti_app.extensions import db
from lti_app.models import AiProposal, DeadLetter, OutboxEvent
from lti_app.models.base import utcnow
from tests.worker import plugins  # noqa: F401  (registers probe.work)
from tests.worker.test_crash_loop import Delivery
from worker import deadletters, jobs
from worker.handlers import HANDLERS
from worker.scheduler import Scheduler
from worker.settings import WorkerSettings

FEEDBACK = "Your paragraph about your parents' separation and your brother's stay in hospital is moving."


def _proposal_without_a_score(job):
    """What the scoring handler stores, with the score missing: the database refuses the row."""
    db.session.add(AiProposal(submission_id=1, score=None, confidence=0.5, feedback=FEEDBACK))
    db.session.flush()


def _dead_letter_of_a_failed_insert(app, monkeypatch, caplog) -> tuple[DeadLetter, str, str]:
    monkeypatch.setitem(HANDLERS, "probe.work", _proposal_without_a_score)
    with app.app_context():
        body = envelope("probe.work", {"key": "proposal-1"})
    settings = WorkerSettings(broker_url="memory://", max_attempts=1)
    with caplog.at_level(logging.INFO):
        assert jobs.process(app, Delivery(body), "scoring", "scoring", settings, "test-worker") == jobs.DEAD
    logged = "\n".join(record.getMessage() for record in caplog.records)
    with app.app_context():
        [dead] = db.session.scalars(db.select(DeadLetter)).all()
        assert db.session.scalars(db.select(OutboxEvent)).all() == [], "no copy for the broker"
        db.session.expunge(dead)
        return dead, logged


def test_a_database_error_leaves_the_stored_text_out_of_the_dead_letter(app, monkeypatch, caplog):
    dead, logged = _dead_letter_of_a_failed_insert(app, monkeypatch, caplog)
    assert dead.reason == ("IntegrityError: (sqlite3.IntegrityError) NOT NULL constraint failed: "
                           "ai_proposals.score"), dead.reason
    for text in (dead.reason, logged):
        assert "separation" not in text and "[SQL" not in text


@pytest.mark.postgres
def test_postgresql_s_failing_row_stays_out_of_the_dead_letter(make_app, scratch_postgres, monkeypatch, caplog):
    """PostgreSQL adds "DETAIL: Failing row contains (...)" to a refused row: the whole row, the
    feedback with it, which the engine's hide_parameters does not hide."""
    app = make_app(database_url=scratch_postgres())
    dead, logged = _dead_letter_of_a_failed_insert(app, monkeypatch, caplog)
    assert dead.reason.startswith("IntegrityError: (psycopg.errors.NotNullViolation) null value in column "
                                  '"score" of relation "ai_proposals" violates not-null constraint'), dead.reason
    for text in (dead.reason, logged):
        assert "separation" not in text and "Failing row" not in text


def test_a_reason_is_cut_to_a_length_a_page_can_show(app):
    with app.app_context():
        row = deadletters.dead_letter({"raw": "x"}, message_id="m-1", queue="scoring", routing_key="scoring",
                                      reason="ValueError: " + "essay text " * 1000, attempts=1)
        assert len(row.reason) == deadletters.REASON_MAX


def _dead_letters(ages_in_days: dict[str, int]) -> None:
    for name, age in ages_in_days.items():
        db.session.add(DeadLetter(message_id=name, queue="gradebook", routing_key="gradebook", payload={},
                                  reason="LmsPermanentError", attempts=1, created_at=utcnow() - timedelta(days=age)))
    db.session.commit()


def test_the_scheduler_deletes_dead_letters_after_the_days_set(worker_app, broker_for):
    app = worker_app(broker_for("embedded"), GRADELOOP_DEAD_LETTER_DAYS=30)
    scheduler = Scheduler(app, WorkerSettings.from_app(app), "host-a:1:aaa")
    with app.app_context():
        _dead_letters({"old": 31, "recent": 29})
        scheduler.tick()
        assert db.session.scalars(db.select(DeadLetter.message_id)).all() == ["recent"]
    scheduler.publishers.close()


def test_by_default_dead_letters_are_kept_90_days_and_0_keeps_them(app):
    with app.app_context():
        _dead_letters({"old": 91, "recent": 89})
        assert deadletters.prune(deadletters.KEEP_DAYS) == 1
        assert deadletters.prune(0) == 0   # until the course's data is deleted
        assert db.session.scalars(db.select(DeadLetter.message_id)).all() == ["recent"]


def test_the_days_are_read_from_the_environment(monkeypatch):
    from config.settings import load_config

    monkeypatch.setenv("GRADELOOP_DEAD_LETTER_DAYS", "14")
    assert load_config().as_flask()["GRADELOOP_DEAD_LETTER_DAYS"] == 14
    monkeypatch.setenv("GRADELOOP_DEAD_LETTER_DAYS", "two weeks")
    with pytest.raises(ValueError, match="GRADELOOP_DEAD_LETTER_DAYS"):
        load_config()
