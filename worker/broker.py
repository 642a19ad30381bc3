"""Broker connections and the confirmed publisher, the same code for RabbitMQ and the embedded DB.

`connect(settings)` picks the transport from the URL: `amqp://` (RabbitMQ, publisher confirms on),
`sqla+<sqlalchemy url>` (the embedded broker in `worker.embedded`), or any other kombu URL
(`memory://` in unit tests).
"""
from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor

from kombu import Connection, Producer
from kombu.transport import TRANSPORT_ALIASES

from worker.settings import WorkerSettings
from worker.topology import Topology

log = logging.getLogger("gradeloop.worker.broker")

EMBEDDED_PREFIXES = ("sqla+", "sqlalchemy+")
EMBEDDED_ALIAS = "glsqla"


def is_amqp(url: str) -> bool:
    return url.split("://", 1)[0] in ("amqp", "amqps", "pyamqp")


class BrokerURLError(ValueError):
    """GRADELOOP_BROKER_URL cannot be parsed: a configuration mistake that no reconnect fixes."""


def connect(settings: WorkerSettings, heartbeat: int = 30) -> Connection:
    """A kombu connection (not yet connected). Raises `BrokerURLError` for a URL kombu cannot
    parse, typically a password with `/`, `#` or `?` that was not URL-encoded: kombu only says
    "Port could not be cast to integer value as 'ab'", which names neither the setting nor the
    cause, and the worker restarted on it in a loop."""
    try:
        return _connection(settings, heartbeat)
    except ValueError as exc:
        # Neither the URL nor kombu's text goes in the message: both may hold part of the password
        # ("Port could not be cast to integer value as 'ab'" is the password up to its "/").
        raise BrokerURLError(
            "GRADELOOP_BROKER_URL cannot be parsed as a broker URL; most likely its password contains "
            "/, # or ? (or another character that URLs reserve). URL-encode the password inside the "
            "URL (/ as %2F, # as %23, ? as %3F), or give the broker user a hex password "
            "(openssl rand -hex 24) and put that in the URL.") from None


def _connection(settings: WorkerSettings, heartbeat: int) -> Connection:
    url = settings.broker_url
    if url.startswith(EMBEDDED_PREFIXES):
        # Our transport under its own URL scheme: kombu splits `scheme+rest` at the first "+", so
        # `glsqla+postgresql+psycopg://...` keeps the driver part for SQLAlchemy.
        TRANSPORT_ALIASES.setdefault(EMBEDDED_ALIAS, "worker.embedded:Transport")
        return Connection(f"{EMBEDDED_ALIAS}+{url.split('+', 1)[1]}", transport_options={
            "visibility_timeout": settings.embedded_visibility_seconds,
            "polling_interval": settings.embedded_polling_interval})
    if is_amqp(url):
        # confirm_publish: publish() returns only once RabbitMQ has the message (or raises).
        return Connection(url, heartbeat=heartbeat, connect_timeout=5,
                          transport_options={"confirm_publish": True})
    return Connection(url, transport_options={"polling_interval": 0.05})


class Publisher:
    """Publishes envelopes as persistent messages; reconnects on the next call after a failure."""

    def __init__(self, settings: WorkerSettings, topology: Topology | None = None):
        self.settings = settings
        self.topology = topology or Topology(settings.prefix, settings.consumer_timeout_ms)
        self._conn: Connection | None = None
        self._producer: Producer | None = None

    def _ensure(self) -> Producer:
        if self._producer is None:
            conn = connect(self.settings)
            try:
                conn.ensure_connection(max_retries=1)
                channel = conn.channel()
                self.topology.declare(channel)
            except Exception:
                conn.release()
                raise
            self._conn = conn
            self._producer = Producer(channel, exchange=self.topology.exchange, serializer="json")
        return self._producer

    def publish(self, message: dict, routing_key: str, headers: dict | None = None) -> None:
        """Raises on failure (after closing the connection) so the caller keeps the event."""
        try:
            self._ensure().publish(message, routing_key=routing_key, message_id=message["event_id"],
                                   delivery_mode=2, headers=headers or {},
                                   retry=False)
        except Exception:
            self.close()
            raise

    def heartbeat(self) -> None:
        if self._conn is not None:
            try:
                self._conn.heartbeat_check()
            except Exception:
                self.close()

    def close(self) -> None:
        conn, self._conn, self._producer = self._conn, None, None
        if conn is not None:
            try:
                conn.release()
            except Exception:  # a broken socket may fail to close; nothing to keep
                pass


class PublisherPool:
    """Several confirmed publishers working on slices of a batch in parallel.

    A confirm per persistent message costs a broker fsync round trip; RabbitMQ batches fsyncs across
    channels, so N connections publishing at once multiply the relay's throughput. The embedded
    broker (one SQLite writer) gets a single publisher.
    """

    def __init__(self, settings: WorkerSettings, size: int | None = None):
        if size is None:
            size = settings.relay_publishers if is_amqp(settings.broker_url) else 1
        self.publishers = [Publisher(settings) for _ in range(max(1, size))]
        self._pool = ThreadPoolExecutor(len(self.publishers), thread_name_prefix="relay") \
            if len(self.publishers) > 1 else None
        self.failures = 0   # consecutive batches that failed: the relay backs off on them

    @staticmethod
    def _run(publisher: Publisher, items) -> list:
        results = []
        for message, routing_key, headers in items:
            try:
                publisher.publish(message, routing_key, headers)
                results.append(None)
            except Exception as exc:  # the rest of this slice waits for the next round
                results.append(exc)
                break
        return results

    def publish_many(self, items: list[tuple[dict, str, dict]]) -> list:
        """One entry per item: None (confirmed), an exception (failed), or False (not tried)."""
        results = self._publish_many(items)
        failed = any(isinstance(r, Exception) for r in results)
        self.failures = self.failures + 1 if failed else 0
        return results

    def _publish_many(self, items):
        n = len(self.publishers)
        if self._pool is None or len(items) < 2 * n:
            return self._run(self.publishers[0], items)
        size = -(-len(items) // n)
        slices = [items[i * size:(i + 1) * size] for i in range(n)]
        futures = [self._pool.submit(self._run, pub, chunk) for pub, chunk in zip(self.publishers, slices)]
        results: list = []
        for chunk, future in zip(slices, futures):
            done = future.result()
            results.extend(done + [False] * (len(chunk) - len(done)))
        return results

    def heartbeat(self) -> None:
        for publisher in self.publishers:
            publisher.heartbeat()

    def close(self) -> None:
        for publisher in self.publishers:
            publisher.close()
        if self._pool is not None:
            self._pool.shutdown(wait=False)
