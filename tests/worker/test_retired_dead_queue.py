"""Deleting the old releases' dead-letter copy queue (`Topology.retire_dead_queue`) is clean-up: when
the broker refuses it (a user without configure permission on that queue), the worker logs it and
consumes as usual, rather than reconnecting for ever while `worker-status` says the broker is down."""
from __future__ import annotations

import logging

from lti_app.events import envelope
from tests.worker import plugins
from tests.worker.conftest import running_worker, wait_for
from worker.broker import Publisher
from worker.settings import WorkerSettings
from worker.topology import Topology


def test_a_refused_clean_up_does_not_stop_the_work(broker_for, worker_app, monkeypatch, caplog):
    app = worker_app(broker_for("embedded"))

    def refused(self, channel):
        raise PermissionError("ACCESS_REFUSED - access to queue 'gradeloop.dead' refused")

    monkeypatch.setattr(Topology, "retire_dead_queue", refused)
    with caplog.at_level(logging.WARNING), running_worker(app, queues=["scoring"]) as worker:
        assert worker.consumer.connected.is_set()
        with app.app_context():
            message = envelope("probe.work", {"key": "after-refused-clean-up"})
        Publisher(WorkerSettings.from_app(app)).publish(message, "scoring")
        with app.app_context():
            wait_for(lambda: plugins.effects("after-refused"), 20, what="the message consumed")
    assert "event=retire_dead_queue_failed" in caplog.text
    assert "broker_connection_lost" not in caplog.text
