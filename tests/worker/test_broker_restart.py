"""Restart RabbitMQ (`rabbitmqctl stop_app` / `start_app`, a real broker restart from the
clients' view) while events are being recorded, relayed and consumed: the relay and the consumer
reconnect on their own and every event is processed exactly once."""
from __future__ import annotations

import shutil
import subprocess
import threading
import time

import pytest

import tests.worker.plugins as plugins
from lti_app.events import record_event
from lti_app.extensions import db
from lti_app.models import OutboxEvent, ProcessedMessage
from tests.conftest import IN_CI
from tests.worker.conftest import running_worker, wait_for

N = 60


def _rabbitmqctl(*args: str, timeout: float = 60) -> None:
    subprocess.run(["rabbitmqctl", "-q", *args], check=True, timeout=timeout, capture_output=True)


@pytest.mark.rabbitmq
def test_broker_restart_loses_nothing(worker_app, rabbitmq_url):
    if not shutil.which("rabbitmqctl"):
        if IN_CI:
            pytest.fail("rabbitmqctl is needed in CI to restart the broker")
        pytest.skip("rabbitmqctl not on PATH")
    app = worker_app(rabbitmq_url)

    def produce():
        with app.app_context():
            for i in range(N):
                record_event("probe.work", {"key": f"restart-{i:03d}", "sleep": 0.02})
                db.session.commit()
                time.sleep(0.1)

    with running_worker(app, concurrency=2) as worker:
        producer = threading.Thread(target=produce)
        producer.start()
        with app.app_context():
            wait_for(lambda: len(plugins.effects("restart-")) >= 5, 30, what="work before the restart")
        try:
            _rabbitmqctl("stop_app")
            time.sleep(2.0)   # both sides see the broker gone while events keep being recorded
        finally:
            _rabbitmqctl("start_app")
            _rabbitmqctl("await_startup", timeout=120)
        producer.join(60)
        with app.app_context():
            wait_for(lambda: len(plugins.effects("restart-")) >= N, 90, interval=0.5,
                     what="every event processed after the restart")
            time.sleep(2.0)   # let any redelivery of an un-acked message arrive
            keys = [e["key"] for e in plugins.effects("restart-")]
            assert sorted(keys) == [f"restart-{i:03d}" for i in range(N)], "lost or duplicated work"
            assert db.session.scalar(db.select(db.func.count()).select_from(ProcessedMessage)) == N
            assert db.session.scalar(db.select(db.func.count()).select_from(OutboxEvent)
                                     .where(OutboxEvent.published_at.is_(None))) == 0
        assert worker.consumer.connected.is_set()
