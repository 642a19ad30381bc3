"""The embedded broker (kombu SQLAlchemy transport + `worker.embedded`): acked messages are deleted,
a clean close gives held messages back in place, a crashed holder's message comes back after the
visibility timeout, and renewal keeps a long job's message from being redelivered."""
from __future__ import annotations

import time

import sqlalchemy as sa
from kombu import Producer

from worker.broker import connect
from worker.settings import WorkerSettings
from worker.topology import Topology


def _setup(tmp_path, visibility=1.0):
    url = f"sqla+sqlite:///{tmp_path / 'broker.db'}"
    settings = WorkerSettings(broker_url=url, prefix="emb", embedded_visibility_seconds=visibility,
                              embedded_polling_interval=0.01)
    return settings, Topology("emb"), sa.create_engine(url.split("+", 1)[1])


def _rows(engine) -> list[tuple[int, bool]]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.text("SELECT id, visible FROM kombu_message ORDER BY id"))]


def _publish(settings, topology, n):
    with connect(settings) as conn:
        channel = conn.channel()
        topology.declare(channel)
        producer = Producer(channel, exchange=topology.exchange)
        for i in range(n):
            producer.publish({"n": i}, routing_key="scoring", serializer="json")


def test_ack_deletes_and_close_returns_in_place(tmp_path):
    settings, topology, engine = _setup(tmp_path)
    _publish(settings, topology, 3)
    with connect(settings) as conn:
        queue = topology.queue("scoring")(conn.channel())
        first, second = queue.get(), queue.get()
        assert (first.decode(), second.decode()) == ({"n": 0}, {"n": 1})
        first.ack()
        assert [v for _, v in _rows(engine)] == [False, True]
    # Closed without acking `second`: it is visible again, as the same row (no copy).
    assert [v for _, v in _rows(engine)] == [True, True]
    with connect(settings) as conn:
        queue = topology.queue("scoring")(conn.channel())
        got = [queue.get(), queue.get()]
        assert sorted(m.decode()["n"] for m in got) == [1, 2]
        for m in got:
            m.ack()
        assert queue.get() is None
    assert _rows(engine) == []


def test_crashed_holder_redelivers_after_visibility_timeout_and_renewal_prevents_it(tmp_path):
    settings, topology, engine = _setup(tmp_path, visibility=1.0)
    _publish(settings, topology, 2)
    crashed = connect(settings)
    crashed_queue = topology.queue("scoring")(crashed.channel())
    lost = crashed_queue.get()          # this "process" dies: never acks, never closes
    assert lost.decode() == {"n": 0}
    alive = connect(settings)
    alive_channel = alive.channel()
    alive_queue = topology.queue("scoring")(alive_channel)
    held = alive_queue.get()
    assert held.decode() == {"n": 1}

    other = connect(settings)
    other_queue = topology.queue("scoring")(other.channel())
    assert other_queue.get() is None
    deadline = time.monotonic() + 3.0
    redelivered = None
    while redelivered is None and time.monotonic() < deadline:
        alive_channel.renew_inflight()   # the live worker renews its message
        time.sleep(0.2)
        other_queue.channel._last_recovery = 0.0   # recover on every poll in this test
        redelivered = other_queue.get()
    assert redelivered is not None and redelivered.decode() == {"n": 0}, "only the crashed one comes back"
    other_queue.channel._last_recovery = 0.0
    assert other_queue.get() is None
    redelivered.ack()
    held.ack()
    assert _rows(engine) == []
    for conn in (alive, other):
        conn.release()
    crashed.collect()   # drop the abandoned connection without giving anything back
