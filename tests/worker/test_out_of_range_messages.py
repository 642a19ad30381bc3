"""A message the database cannot take (an id beyond the id columns, an event_id with a lone UTF-16
surrogate or a NUL) is dead-lettered once, with a reason, through the real broker and worker; it is
not requeued for ever, and the queue behind it moves on. The ids in the event schemas are bounded
like the columns (INTEGER: 2**31-1 on PostgreSQL), and recording a dead letter never fails on what
the message holds: its refusal would send the message back to the broker, again and again."""
from __future__ import annotations

import json

import pytest
from kombu import Producer

import tests.worker.plugins as plugins
from lti_app.events import envelope, parse_message
from lti_app.extensions import db
from lti_app.models import DeadLetter
from lti_app.routing import MAX_ID
from tests.coursework.helpers import build_world
from tests.worker.conftest import running_worker, wait_for
from worker import deadletters
from worker.broker import connect
from worker.settings import WorkerSettings
from worker.topology import Topology

HUGE = 10**20
DATABASES = ["embedded", pytest.param("embedded-postgres", marks=pytest.mark.postgres)]


def _body(event_type="training.due", payload=None, **envelope_fields) -> bytes:
    message = {"event_id": "e-1", "type": event_type, "version": 1,
               "payload": {"assignment_id": 1} if payload is None else payload, **envelope_fields}
    return json.dumps(message).encode()   # ensure_ascii: a lone surrogate travels as "\ud800"


POISON = {   # routing key, body, what the reason names
    "huge assignment id": ("training", _body(payload={"assignment_id": HUGE}), "assignment_id"),
    "huge grade id": ("gradebook", _body("gradebook.sync", {"assignment_id": 1, "grade_id": HUGE}), "grade_id"),
    "just past the largest id": ("scoring", _body("submission.created", {
        "submission_id": MAX_ID + 1, "assignment_id": 1, "course_id": 1}), "submission_id"),
    "zero id": ("training", _body(payload={"assignment_id": 0}), "assignment_id"),
    "lone surrogate in the event id": ("training", _body(event_id="\ud800"), "event_id"),
    "NUL in the event id": ("training", _body(event_id="a\x00b"), "event_id"),
    "huge attempt": ("training", _body(attempt=HUGE), "attempt"),
}


def _app(request, database: str):
    """A worker app on the embedded broker, its database SQLite or PostgreSQL (with its broker)."""
    fixture = "pg_app" if database == "embedded-postgres" else "worker_app"
    return request.getfixturevalue(fixture)(request.getfixturevalue("broker_for")(database))


def _dead(app):
    with app.app_context():
        return [(d.message_id, d.attempts, d.reason, d.assignment_id)
                for d in db.session.scalars(db.select(DeadLetter).order_by(DeadLetter.id))]


@pytest.mark.parametrize("database", DATABASES)
def test_a_message_the_database_cannot_take_is_dead_lettered_once(database, request, prefix):
    app = _app(request, database)
    build_world(app)
    with app.app_context():
        good = envelope("probe.work", {"key": "after-poison"})
    with connect(WorkerSettings.from_app(app)) as conn:
        channel = conn.channel()
        topology = Topology(prefix)
        topology.declare(channel)
        producer = Producer(channel, exchange=topology.exchange)
        for routing_key, body, _ in POISON.values():
            producer.publish(body, routing_key=routing_key, content_type="application/json",
                             content_encoding="utf-8")
        producer.publish(good, routing_key="scoring", serializer="json")
    with running_worker(app):
        wait_for(lambda: len(_dead(app)) == len(POISON) and _good_one_done(app), 30,
                 what="every poison message dead-lettered and the good one done")
    dead = _dead(app)
    assert [d[1] for d in dead] == [1] * len(POISON), dead   # each once, none retried
    reasons = [d[2] for d in dead]   # the queues are consumed in no set order
    assert all(reason.startswith("invalid message:") for reason in reasons), reasons
    named = [field for _, _, field in POISON.values()]
    for field in set(named):
        assert sum(field in reason for reason in reasons) >= named.count(field), (field, reasons)
    assert {d[0] for d in dead} >= {"?", "a\ufffdb"}, "the odd ids are kept, made storable"


def _good_one_done(app):
    with app.app_context():
        return plugins.effects("after-poison")


@pytest.mark.parametrize("database", DATABASES)
def test_recording_a_dead_letter_never_fails_on_the_message(database, request):
    """What an older release may have queued (its schemas took any number) or a plugin's schema
    lets through still gets its dead letter."""
    app = _app(request, database)
    build_world(app)
    message = {"event_id": "e-\ud83e", "type": "training.due\x00", "payload": {"assignment_id": HUGE,
               "reason": ["\ud800", {"k\x00": "v"}]}, "attempt": HUGE}
    with app.app_context():
        row = deadletters.dead_letter(message, message_id="e-\ud83e\x00", queue="training", routing_key="training",
                                      reason="ValueError: '\ud800'\x00", attempts=HUGE)
        db.session.commit()
        row = db.session.get(DeadLetter, row.id)
        assert (row.message_id, row.reason, row.attempts, row.assignment_id) == (
            "e-?\ufffd", "ValueError: '?'\ufffd", MAX_ID, None)
        assert row.payload["payload"] == {"assignment_id": HUGE, "reason": ["?", {"k\ufffd": "v"}]}
        for assignment_id in (MAX_ID + 1, -HUGE, 0):
            row = deadletters.dead_letter({"payload": {"assignment_id": assignment_id}}, message_id="m",
                                          queue="training", routing_key="training", reason="x", attempts=1)
            assert row.assignment_id is None
        db.session.commit()


def test_the_largest_id_is_still_a_valid_message():
    _, _, payload = parse_message(json.loads(_body("gradebook.sync", {"assignment_id": MAX_ID, "grade_id": MAX_ID})))
    assert payload["grade_id"] == MAX_ID
