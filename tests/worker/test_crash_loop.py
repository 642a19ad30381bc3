"""A message whose worker dies mid-job (killed by the kernel for memory, a crash in native code)
is counted per delivery; past the retry limit the next delivery is dead-lettered without running
the handler, instead of taking down every worker it reaches. Deliveries that reach an outcome,
retries included, do not count. (In process: the "death" is an exception no handler code
catches, which leaves the delivery without an outcome exactly as a killed process does.)"""
from __future__ import annotations

import json

import pytest

from lti_app.events import envelope
from lti_app.extensions import db
from lti_app.models import DeadLetter, MessageDelivery, ProcessedMessage
from tests.worker import plugins  # noqa: F401  (registers probe.work)
from worker import jobs
from worker.handlers import HANDLERS
from worker.settings import WorkerSettings


class WorkerDied(BaseException):
    """Stands for the process dying inside the handler."""


class Delivery:
    """The parts of a kombu Message that `jobs.process` reads."""

    def __init__(self, body: dict):
        self.body, self.properties, self.delivery_tag = json.dumps(body).encode(), {}, 1

    def decode(self):
        return json.loads(self.body)


@pytest.fixture
def dying(app, monkeypatch):
    runs = []

    def handler(job):
        runs.append(job.attempt)
        if job.payload["key"].startswith("dies"):
            raise WorkerDied()
        plugins._effect(job)

    monkeypatch.setitem(HANDLERS, "probe.work", handler)
    with app.app_context():
        plugins.ensure_tables(db.engine)
    return runs


def _deliver(app, body, max_attempts=3):
    settings = WorkerSettings(broker_url="memory://", max_attempts=max_attempts)
    return jobs.process(app, Delivery(body), "scoring", "scoring", settings, "test-worker")


def test_a_message_that_kills_its_worker_is_dead_lettered_after_the_limit(app, dying):
    with app.app_context():
        body = envelope("probe.work", {"key": "dies-1"})
    for _ in range(3):   # three deliveries, each killing its worker
        with pytest.raises(WorkerDied):
            _deliver(app, body)
    assert _deliver(app, body) == jobs.DEAD and len(dying) == 3   # the fourth is not run
    with app.app_context():
        [dead] = db.session.scalars(db.select(DeadLetter)).all()
        assert "stopped while handling this message 3 times" in dead.reason
        assert db.session.scalar(db.select(db.func.count()).select_from(MessageDelivery)) == 0


def test_deliveries_that_end_normally_do_not_count(app, dying):
    with app.app_context():
        body = envelope("probe.work", {"key": "fine-1"})
    with pytest.raises(WorkerDied):   # one death, then it works
        _deliver(app, {**body, "payload": {**body["payload"], "key": "dies-once"}, "event_id": body["event_id"]})
    assert _deliver(app, body) == jobs.DONE
    with app.app_context():
        assert db.session.get(ProcessedMessage, body["event_id"]) is not None
        assert db.session.get(MessageDelivery, body["event_id"]) is None   # cleared with the outcome
