"""Several `gradeloop worker` processes on one broker and one database (what scaling out is):
competing consumers share the work, every event is processed exactly once, one scheduler relays."""
from __future__ import annotations

import collections
import signal

import pytest
from kombu import Queue

import tests.worker.plugins as plugins
from lti_app.events import record_event
from lti_app.extensions import db
from lti_app.models import ProcessedMessage
from tests.worker.conftest import wait_for, worker_env
from worker.broker import Publisher
from worker.settings import WorkerSettings

N = 40


def _scale_out(app, prefix, spawn_worker):
    env = worker_env(app, prefix)
    workers = [spawn_worker(env, "--concurrency", "2", name=f"w{i}") for i in range(2)]
    with app.app_context():
        wait_for(lambda: db.session.scalar(db.text("SELECT count(*) FROM worker_heartbeats "
                                                   "WHERE status = 'idle'")) == 2, 60, what="both workers up")
        for i in range(N):
            record_event("probe.work", {"key": f"scale-{i:02d}", "sleep": 0.15})
        db.session.commit()
        wait_for(lambda: len(plugins.effects("scale-")) >= N, 90, interval=0.3, what="all events processed")
        effects = plugins.effects("scale-")
        assert sorted(e["key"] for e in effects) == [f"scale-{i:02d}" for i in range(N)]
        assert db.session.scalar(db.select(db.func.count()).select_from(ProcessedMessage)) == N
        by_worker = collections.Counter(e["worker_id"].split(":")[1] for e in effects)
        assert set(by_worker) == {str(w.pid) for w in workers}, f"work was not shared: {by_worker}"
    leaders = [w for w in workers if "event=scheduler_leader" in w.log_path.read_text()]
    assert len(leaders) == 1, "exactly one scheduler relayed the outbox"
    for w in workers:
        w.send_signal(signal.SIGTERM)
    for w in workers:
        assert w.wait(30) == 0, w.log_path.read_text()[-2000:]


def test_two_workers_embedded_sqlite(worker_app, broker_for, prefix, spawn_worker):
    _scale_out(worker_app(broker_for("embedded")), prefix, spawn_worker)


@pytest.mark.rabbitmq
@pytest.mark.postgres
def test_two_workers_rabbitmq_postgres(pg_app, rabbitmq_url, prefix, spawn_worker):
    app = pg_app(rabbitmq_url)
    _scale_out(app, prefix, spawn_worker)
    # Messages on RabbitMQ are persistent on durable queues.
    publisher = Publisher(WorkerSettings.from_app(app))
    publisher.publish({"event_id": "probe-persist", "type": "probe.work", "version": 1,
                       "payload": {"key": "persist"}}, "scoring")
    channel = publisher._conn.default_channel
    declared = Queue(f"{prefix}.scoring", durable=True)(channel).queue_declare(passive=True)
    assert declared.message_count == 1
    message = Queue(f"{prefix}.scoring")(channel).get(no_ack=True)
    assert message.properties["delivery_mode"] == 2 and message.properties["message_id"] == "probe-persist"
    assert publisher._conn.transport_options["confirm_publish"] is True
    publisher.close()
