"""The worker's message flows, identical on RabbitMQ and on the embedded (SQLite) broker:
publish through the outbox, consume with late ack, retry with backoff, dead-letter, poison
messages, requeue, idempotent redelivery."""
from __future__ import annotations

import time

import pytest
from kombu import Producer
from kombu.exceptions import ChannelError

import tests.worker.plugins as plugins
from lti_app.events import envelope, record_event
from lti_app.extensions import db
from lti_app.models import DeadLetter, OutboxEvent, ProcessedMessage
from tests.worker.conftest import running_worker, wait_for
from worker.broker import connect
from worker.deadletters import requeue
from worker.settings import WorkerSettings
from worker.topology import RETIRED_DEAD, Topology

TRANSPORTS = ["embedded", pytest.param("rabbitmq", marks=pytest.mark.rabbitmq)]


def _effects(app, prefix=""):
    with app.app_context():
        return plugins.effects(prefix)


def _dead(app):
    with app.app_context():
        return [(d.id, d.payload.get("type") if isinstance(d.payload, dict) else None, d.attempts, d.reason,
                 d.queue) for d in db.session.scalars(db.select(DeadLetter).order_by(DeadLetter.id))]


def _left_on_retired_queue(channel, topology):
    """Messages on the old releases' dead-letter copy queue; None once RabbitMQ has deleted it."""
    try:
        return topology.queue(RETIRED_DEAD)(channel).queue_declare(passive=True).message_count
    except ChannelError:
        return None


def _unpublished(app):
    with app.app_context():
        return db.session.scalar(db.select(db.func.count()).select_from(OutboxEvent)
                                 .where(OutboxEvent.published_at.is_(None)))


def _record(app, *events):
    with app.app_context():
        ids = [record_event(t, p).event_id for t, p in events]
        db.session.commit()
    return ids


@pytest.mark.parametrize("transport", [*TRANSPORTS, pytest.param("embedded-postgres", marks=pytest.mark.postgres)])
def test_publish_consume_retry_deadletter_requeue(transport, broker_for, worker_app):
    app = worker_app(broker_for(transport), GRADELOOP_RETRY_MAX_ATTEMPTS=3)
    _record(app, *[("probe.work", {"key": f"ok-{i}"}) for i in range(10)],
            ("probe.work", {"key": "flaky", "fail_times": 2}),
            ("probe.work", {"key": "doomed", "fail_times": 99}),
            ("probe.work", {"key": "refused", "permanent": True}))
    with running_worker(app, concurrency=2):
        wait_for(lambda: len(_effects(app)) == 11 and len(_dead(app)) == 2, 30, what="work and dead letters")
        dead = {d[3].split(": ", 1)[1]: d for d in _dead(app)}
        # Retries used the whole budget; the permanent error was not retried.
        assert dead["probe doomed fails attempt 2"][2] == 3
        assert dead["probe refused refuses"][2] == 1
        assert all(d[4].endswith(".scoring") for d in dead.values())
        flaky = [e for e in _effects(app) if e["key"] == "flaky"]
        assert [e["attempt"] for e in flaky] == [2]

        # Requeue the permanently refused one: it fails again (same handler), a NEW dead letter.
        refused_id = dead["probe refused refuses"][0]
        with app.app_context():
            requeue(refused_id)
            with pytest.raises(ValueError, match="already requeued"):
                requeue(refused_id)
        wait_for(lambda: len(_dead(app)) == 3, 20, what="requeued message dead again")
        wait_for(lambda: _unpublished(app) == 0, 10, what="outbox drained")
    effects = _effects(app)
    assert sorted(e["key"] for e in effects) == sorted([f"ok-{i}" for i in range(10)] + ["flaky"])
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(ProcessedMessage)) == 11


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_poison_messages_are_dead_lettered_once(transport, broker_for, worker_app, prefix):
    app = worker_app(broker_for(transport))
    settings = WorkerSettings.from_app(app)
    topology = Topology(prefix)
    good = envelope("probe.work", {"key": "after-poison"})
    with connect(settings) as conn:
        channel = conn.channel()
        topology.declare(channel)
        producer = Producer(channel, exchange=topology.exchange)
        # What an older release left: its dead-letter copy queue, with a copy on it.
        topology.queue(RETIRED_DEAD)(channel).declare()
        producer.publish({"type": "dead_letter", "reason": "old"}, routing_key=RETIRED_DEAD, serializer="json")
        assert _left_on_retired_queue(channel, topology) == 1
        producer.publish(b"{not json", routing_key="scoring", content_type="application/json",
                         content_encoding="utf-8", message_id="raw-1")
        producer.publish({"event_id": "e-unknown", "type": "no.such.event", "version": 1, "payload": {}},
                         routing_key="scoring", serializer="json")
        producer.publish({"event_id": "e-invalid", "type": "probe.work", "version": 1,
                          "payload": {"key": 12, "sleep": "long"}}, routing_key="scoring", serializer="json")
        producer.publish({**good, "type": "probe.http", "payload": {"key": "x", "url": "http://127.0.0.1:9/"}},
                         routing_key="scoring", serializer="json")   # right schema, wrong queue
        producer.publish(good, routing_key="scoring", serializer="json")
    with running_worker(app):
        wait_for(lambda: _effects(app) and len(_dead(app)) == 4 and not _unpublished(app), 30,
                 what="poison dead-lettered")
        dead = _dead(app)
        assert [d[2] for d in dead] == [1, 1, 1, 1]
        reasons = " | ".join(d[3] for d in dead)
        assert "undecodable" in reasons and "no.such.event" in reasons and "does not belong" in reasons
        assert "Not a valid string" in reasons and "Not a valid number" in reasons
        with app.app_context():
            # Poison is never retried, and dead letters are not copied anywhere: nothing published.
            assert db.session.scalars(db.select(OutboxEvent.routing_key)).all() == []
            with pytest.raises(ValueError, match="not a valid event"):
                requeue(dead[0][0])
    with connect(settings) as conn:
        assert _left_on_retired_queue(conn.channel(), topology) in (None, 0), "the old copies are deleted"


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_redelivered_message_is_skipped(transport, broker_for, worker_app):
    """The relay publishes twice (crash before it could mark the row): the work happens once."""
    app = worker_app(broker_for(transport))
    (event_id,) = _record(app, ("probe.work", {"key": "twice"}))
    with app.app_context():
        row = db.session.scalar(db.select(OutboxEvent).where(OutboxEvent.event_id == event_id))
        copy = OutboxEvent(event_id=event_id + "-copy", type=row.type, routing_key=row.routing_key,
                           payload=row.payload)
        db.session.add(copy)
        db.session.commit()
    with running_worker(app):
        wait_for(lambda: _effects(app), 20, what="effect")
        wait_for(lambda: _unpublished(app) == 0, 10, what="both copies published")
        time.sleep(1.0)
    assert len(_effects(app)) == 1


def test_gradebook_sync_progress_words_are_checked_when_recorded():
    """A progress word AGS does not know is refused where the event is made, naming the field, not
    discovered by the LMS call as a dead letter."""
    from marshmallow import ValidationError

    from lti_app.events import validate_payload

    ok = validate_payload("gradebook.sync", {"assignment_id": 1, "submission_id": 2,
                                             "activity_progress": "Submitted", "grading_progress": "Pending"})
    assert ok["grading_progress"] == "Pending"
    with pytest.raises(ValidationError, match="grading_progress"):
        validate_payload("gradebook.sync", {"assignment_id": 1, "submission_id": 2, "grading_progress": "Graded"})


@pytest.mark.parametrize("database", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_over_long_event_id_is_dead_lettered_at_once(database, broker_for, worker_app, request, prefix):
    """The id columns hold 64 characters: a longer id is a poison message (on PostgreSQL its
    bookkeeping insert would otherwise fail and requeue it for ever)."""
    make = request.getfixturevalue("pg_app") if database == "postgres" else worker_app
    app = make(broker_for("embedded"))
    settings = WorkerSettings.from_app(app)
    topology = Topology(prefix)
    long_id = "x" * 65 + "-too-long"
    with connect(settings) as conn:
        channel = conn.channel()
        topology.declare(channel)
        producer = Producer(channel, exchange=topology.exchange)
        producer.publish({**envelope("probe.work", {"key": "long-id"}), "event_id": long_id},
                         routing_key="scoring", serializer="json")
        producer.publish(envelope("probe.work", {"key": "after-long-id"}), routing_key="scoring", serializer="json")
    with running_worker(app):
        wait_for(lambda: _effects(app, "after-") and _dead(app) and not _unpublished(app), 30,
                 what="over-long id dead-lettered")
        time.sleep(1.0)   # a requeued copy, if any, would be handled again now
    dead = _dead(app)
    assert len(dead) == 1 and dead[0][2] == 1 and "event_id" in dead[0][3], dead
    assert [e["key"] for e in _effects(app)] == ["after-long-id"], "the over-long message must not run"
    with app.app_context():
        row = db.session.get(DeadLetter, dead[0][0])
        assert row.message_id == long_id[:64] and row.payload["event_id"] == long_id
        assert db.session.scalar(db.select(db.func.count()).select_from(ProcessedMessage)) == 1
    with connect(settings) as conn:
        assert topology.queue("scoring")(conn.channel()).get(no_ack=True) is None, "it was acknowledged"
