"""A message handed to this worker again while its first delivery still runs here (the broker
requeued it when the connection dropped, and the consumer reconnected under the running job)
waits for that run and is then skipped: it never runs twice at once in one worker."""
from __future__ import annotations

import threading
import time

from kombu import Producer
from marshmallow import Schema, fields

from lti_app.events import EVENT_TYPES, envelope
from worker import jobs
from worker.broker import connect
from worker.consumer import QueueConsumer
from worker.handlers import HANDLERS
from worker.settings import WorkerSettings
from worker.topology import Topology


class Overlap(Schema):
    key = fields.String(required=True)


class Recorder:
    """A handler that counts its runs per key and how many of them were running at once."""

    def __init__(self):
        self.lock = threading.Lock()
        self.active: dict[str, int] = {}
        self.runs: dict[str, int] = {}
        self.most_at_once: dict[str, int] = {}
        self.most_overall = 0

    def __call__(self, job) -> None:
        key = job.payload["key"]
        with self.lock:
            self.active[key] = self.active.get(key, 0) + 1
            self.runs[key] = self.runs.get(key, 0) + 1
            self.most_at_once[key] = max(self.most_at_once.get(key, 0), self.active[key])
            self.most_overall = max(self.most_overall, sum(self.active.values()))
        time.sleep(1.0)
        with self.lock:
            self.active[key] -= 1


def test_second_delivery_of_a_running_message_waits_and_is_skipped(worker_app, broker_for, prefix, monkeypatch):
    app = worker_app(broker_for("embedded"))
    recorder = Recorder()
    monkeypatch.setitem(EVENT_TYPES, "probe.overlap", (Overlap, "scoring"))
    monkeypatch.setitem(HANDLERS, "probe.overlap", recorder)
    settings = WorkerSettings.from_app(app)
    topology = Topology(prefix)
    consumer = QueueConsumer(app, settings, "test-host:1:abc", queues=["scoring"], concurrency=3)
    with connect(settings) as conn:
        channel = conn.channel()
        topology.declare(channel)
        producer = Producer(channel, exchange=topology.exchange)
        for key in ("same", "other"):
            producer.publish(envelope("probe.overlap", {"key": key}), routing_key="scoring", serializer="json")
        queue = topology.queue("scoring")(channel)
        same, other = queue.get(), queue.get()
        assert same.decode()["payload"]["key"] == "same"
        try:
            # The broker hands `same` to this worker twice while its first run is in progress.
            consumer._on_message(same)
            time.sleep(0.2)
            consumer._on_message(same)
            consumer._on_message(other)
            results = [consumer.results.get(timeout=20) for _ in range(3)]
        finally:
            consumer._pool.shutdown(wait=True)
        for message in (same, other):
            message.ack()
    outcomes = [(m.decode()["payload"]["key"], outcome) for m, outcome in results]
    assert recorder.most_at_once["same"] == 1, "both deliveries of one message ran at once"
    assert recorder.runs["same"] == 1
    assert sorted(outcomes) == [("other", jobs.DONE), ("same", jobs.DONE), ("same", jobs.DUPLICATE)]
    assert recorder.most_overall == 2, "a different message does not wait for it"
