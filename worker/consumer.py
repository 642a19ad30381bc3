"""The consumer loop: receives from the work queues, runs handlers on a thread pool, acks late.

One thread owns the broker connection (kombu channels are not thread-safe): it drains deliveries,
hands each to a pool of `concurrency` handler threads, and acks each message only after its
outcome is committed (`worker.jobs`). Prefetch equals concurrency, so a long training job holds
one message and nothing waits behind it on this worker. The same thread sends AMQP heartbeats and
renews the embedded broker's in-flight leases, so a job of any length keeps its delivery. When
the broker goes away it reconnects with backoff; results of jobs that finished meanwhile are not
acked on the new channel: the broker redelivers them and the `processed_messages` check skips them.

A job can still be running when its message comes back on the new connection (the broker requeued
it when the old one dropped), and `processed_messages` is only written when that job ends. So a
delivery whose message id is already running in this process waits, in its pool thread, for that
run to end and only then goes through `jobs.process` (which skips it, or redoes the work if the
first run failed): one message never runs twice at once here (two trainings of one assignment
under the same lease owner, two LMS posts).
"""
from __future__ import annotations

import logging
import queue as queue_mod
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from kombu import Consumer

from worker import jobs
from worker.broker import connect
from worker.topology import Topology

log = logging.getLogger("gradeloop.worker.consumer")

ACKED = (jobs.DONE, jobs.DUPLICATE, jobs.RETRY, jobs.DEFERRED, jobs.DEAD)


def _message_id(message) -> str | None:
    """The id `jobs.process` will know the message by; None for a body that cannot be decoded
    (it is poison: dead-lettered at once, nothing to keep apart)."""
    try:
        body = message.decode()
    except Exception:  # noqa: BLE001  jobs.process dead-letters it and says why
        return None
    return jobs._message_id(body, message)


class QueueConsumer:
    """Runs until `stop()`; `run()` blocks (the runner calls it on the main thread)."""

    def __init__(self, app, settings, worker_id: str, queues=None, concurrency: int = 1, on_state=None):
        self.app, self.settings, self.worker_id = app, settings, worker_id
        self.concurrency = max(1, int(concurrency))
        self.topology = Topology(settings.prefix, settings.consumer_timeout_ms)
        self.queues = self.topology.work_queues(queues)
        self.stopping = threading.Event()
        self.results: queue_mod.Queue = queue_mod.Queue()
        self.running: dict[int, str] = {}      # id(message) -> event type, for heartbeats
        self.processed = 0
        self.connected = threading.Event()
        self._pool = ThreadPoolExecutor(self.concurrency, thread_name_prefix="job")
        self._in_flight: dict[str, threading.Event] = {}   # message id -> set when its run ends
        self._in_flight_lock = threading.Lock()
        self._channel = None
        self._retired = False   # the old dead-letter copy queue deleted (`Topology.retire_dead_queue`)
        self._on_state = on_state or (lambda: None)

    # -- handler threads -------------------------------------------------------------------
    def _on_message(self, message) -> None:
        info = message.delivery_info or {}
        routing_key = info.get("routing_key") or ""
        queue = self.topology.queue_name(routing_key)
        self.running[id(message)] = (message.headers or {}).get("type") or routing_key

        def work():
            message_id = _message_id(message)
            if message_id is not None:
                self._enter(message_id)
            try:
                outcome = jobs.process(self.app, message, queue, routing_key, self.settings, self.worker_id)
            finally:
                if message_id is not None:
                    self._leave(message_id)
            self.results.put((message, outcome))

        self._pool.submit(work)

    def _enter(self, message_id: str) -> None:
        """Mark `message_id` running here, first waiting for a run of it already in progress."""
        while True:
            with self._in_flight_lock:
                running = self._in_flight.get(message_id)
                if running is None:
                    self._in_flight[message_id] = threading.Event()
                    return
            # Loop: a third copy may have claimed the id between the set() and our turn.
            running.wait()

    def _leave(self, message_id: str) -> None:
        with self._in_flight_lock:
            done = self._in_flight.pop(message_id)
        done.set()

    # -- connection thread -----------------------------------------------------------------
    def _settle(self, wait: float = 0.0) -> None:
        """Ack/reject finished jobs; `wait` > 0 blocks up to that long for the first one."""
        while True:
            try:
                message, outcome = self.results.get(timeout=wait) if wait else self.results.get_nowait()
            except queue_mod.Empty:
                return
            wait = 0.0
            self.running.pop(id(message), None)
            self.processed += 1
            if message.channel is not self._channel:
                log.info("event=stale_result outcome=%s note=broker_will_redeliver", outcome)
                continue
            try:
                if outcome in ACKED:
                    message.ack()
                else:
                    message.reject(requeue=True)
            except Exception as exc:  # connection lost: the broker redelivers, dedup skips it
                log.warning("event=ack_failed outcome=%s error=%r", outcome, exc)

    def _retire_dead_queue(self, conn) -> None:
        """Clean-up, once per process: its failure (a broker user without configure permission on
        the old queue, a busy embedded broker) must not keep the worker from consuming. On a
        channel of its own, which a refusal closes without the consuming one."""
        self._retired = True
        try:
            with conn.channel() as channel:
                self.topology.retire_dead_queue(channel)
        except Exception as exc:  # noqa: BLE001  the old queue stays; nothing reads or writes it
            log.warning("event=retire_dead_queue_failed queue=%s error=%r action=left_in_place",
                        self.topology.queue_name("dead"), exc)

    def _serve(self, conn) -> None:
        channel = conn.channel()
        self.topology.declare(channel)
        if not self._retired:
            self._retire_dead_queue(conn)
        self._channel = channel
        consumer = Consumer(channel, self.queues, on_message=self._on_message, accept=["json"],
                            prefetch_count=self.concurrency)
        consumer.consume()
        self.connected.set()
        self._on_state()
        log.info("event=consuming queues=%s concurrency=%s", [q.name for q in self.queues], self.concurrency)
        renew = getattr(channel, "renew_inflight", None)
        last_tick = 0.0
        # Renew held embedded messages well inside their visibility timeout.
        tick = min(2.0, self.settings.embedded_visibility_seconds / 3)
        try:
            while not self.stopping.is_set():
                if len(self.running) >= self.concurrency:
                    # Every prefetch slot is busy, so nothing new can arrive: wait on the jobs
                    # instead of the socket and ack the moment one finishes.
                    self._settle(wait=0.2)
                    timeout = 0.001
                else:
                    timeout = 0.01 if self.running else 0.2
                try:
                    conn.drain_events(timeout=timeout)
                except socket.timeout:
                    pass
                self._settle()
                now = time.monotonic()
                if now - last_tick > tick:
                    last_tick = now
                    conn.heartbeat_check()
                    if renew is not None:
                        renew()
            consumer.cancel()   # stop fetching; finish (or give back) what we hold
            self._drain_running(conn, renew)
        finally:
            self.connected.clear()
            self._on_state()

    def _drain_running(self, conn, renew) -> None:
        deadline = time.monotonic() + self.settings.shutdown_grace_seconds
        while self.running and time.monotonic() < deadline:
            try:
                conn.drain_events(timeout=0.05)
            except socket.timeout:
                pass
            self._settle()
            conn.heartbeat_check()
            if renew is not None:
                renew()
        if self.running:
            log.warning("event=shutdown_requeue unfinished=%s", len(self.running))

    def run(self) -> None:
        delay = 1.0
        while not self.stopping.is_set():
            conn = connect(self.settings)
            try:
                conn.ensure_connection(max_retries=1)
                delay = 1.0
                self._serve(conn)
            except Exception as exc:  # broker down or restarted: back off and reconnect
                log.warning("event=broker_connection_lost error=%r retry_in=%.1f", exc, delay)
                self.stopping.wait(delay)
                delay = min(delay * 2, 15.0)
            finally:
                self._channel = None
                try:
                    conn.release()   # unacked deliveries go back to the broker
                except Exception:
                    pass
        self._pool.shutdown(wait=False, cancel_futures=True)

    def stop(self) -> None:
        self.stopping.set()
