"""Entry point of `gradeloop worker`: consumer + scheduler + heartbeat in one process.

`WorkerProcess` wires the parts and can run in a thread (tests, `gradeloop run`);
`run_worker` adds what a real process needs: key=value logs, SIGTERM/SIGINT for a graceful stop
(running jobs finish within the grace period, or go back to the broker), and lease cleanup.

A worker that consumes the training queue checks `GRADELOOP_BASE_MODEL` when it starts
(`worker.ml.basemodel`: a local model directory, never a Hub id) and refuses to start with a
message naming the variable and the path: otherwise it started fine and every retrain failed
later, deep inside training, once per message and attempt.
"""
from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
import uuid

from worker import leases
from worker.broker import connect
from worker.consumer import QueueConsumer
from worker.handlers import load_handlers
from worker.health import BROKER_UNREACHABLE, STALLED_PREFIX, Heartbeat
from worker.scheduler import Scheduler
from worker.settings import WorkerSettings

log = logging.getLogger("gradeloop.worker")

LOG_FORMAT = "ts=%(asctime)s level=%(levelname)s logger=%(name)s %(message)s"


class WorkerProcess:
    def __init__(self, app, queues=None, concurrency: int = 1, settings: WorkerSettings | None = None,
                 scheduler: bool = True):
        self.app = app
        self.settings = settings or WorkerSettings.from_app(app)
        self.hostname = socket.gethostname()
        self.worker_id = f"{self.hostname}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        # Building a connection parses the URL without connecting: an unparsable one is a
        # BrokerURLError (a ValueError naming GRADELOOP_BROKER_URL) now, before anything starts,
        # rather than a kombu traceback from the consumer thread that a restart repeats for ever.
        connect(self.settings).release()
        load_handlers()
        self.consumer = QueueConsumer(app, self.settings, self.worker_id, queues, concurrency,
                                      on_state=lambda: self.heartbeat.poke())
        if any(q.routing_key == "training" for q in self.consumer.queues):
            from worker.ml.basemodel import check   # torch-free: fails before anything starts

            check(app.config.get("GRADELOOP_BASE_MODEL"))   # ValueError naming the variable and path
        self.scheduler = Scheduler(app, self.settings, self.worker_id) if scheduler else None
        self.heartbeat = Heartbeat(app, self.worker_id, self.hostname,
                                   [q.name for q in self.consumer.queues], self.settings.heartbeat_seconds,
                                   self.status)
        self._disconnected_since: float | None = None   # monotonic; None while connected

    def status(self) -> str:
        # Called on every beat and on every connect/disconnect (the consumer pokes the heartbeat),
        # so the time the connection went away is known to within one call.
        connected = self.consumer.connected.is_set()
        if connected:
            self._disconnected_since = None
        elif self._disconnected_since is None:
            self._disconnected_since = time.monotonic()
        if self.consumer.stopping.is_set():
            return "stopping"
        hung = leases.stalled()
        if hung:
            # A job hung in a call that never returns holds a pool thread for good: only a restart
            # frees it, so the healthcheck must fail (`worker.leases`, stall_seconds).
            return STALLED_PREFIX + ",".join(hung)
        running = list(self.consumer.running.values())
        if running:
            return "busy: " + ",".join(sorted(set(running)))
        if connected:
            return "idle"
        # Reconnecting takes a few seconds (backoff up to 15 s); longer than `worker-status`'s
        # staleness window (three beats) means the broker is down or the URL or password is wrong.
        if time.monotonic() - self._disconnected_since > 3 * self.settings.heartbeat_seconds:
            return BROKER_UNREACHABLE
        return "connecting"

    def run(self) -> None:
        """Block until `stop()`."""
        self.heartbeat.start()
        if self.scheduler is not None:
            self.scheduler.start()
        log.info("event=worker_started worker_id=%s queues=%s concurrency=%s broker=%s", self.worker_id,
                 [q.name for q in self.consumer.queues], self.consumer.concurrency,
                 self.settings.broker_url.split("://", 1)[0])
        try:
            self.consumer.run()
        finally:
            if self.scheduler is not None:
                self.scheduler.stop()
                self.scheduler.join(timeout=10)
            unfinished = bool(self.consumer.running)
            if unfinished:
                # The jobs we give back must be free to start elsewhere at once.
                with self.app.app_context():
                    leases.release_prefix(self.worker_id)
            self.heartbeat.stop()
            self.heartbeat.join(timeout=5)
            self.heartbeat.send("stopped")
            log.info("event=worker_stopped worker_id=%s processed=%s", self.worker_id, self.consumer.processed)

    def start_thread(self) -> threading.Thread:
        thread = threading.Thread(target=self.run, name="worker", daemon=True)
        thread.start()
        return thread

    def stop(self) -> None:
        self.consumer.stop()
        self.heartbeat.poke()


def _configure_logging() -> None:
    root = logging.getLogger()
    for handler in root.handlers:
        handler.setFormatter(logging.Formatter(LOG_FORMAT))
    logging.getLogger("amqp").setLevel(logging.WARNING)
    logging.getLogger("kombu").setLevel(logging.WARNING)


def run_worker(app, queues=None, concurrency: int = 1) -> None:
    """`gradeloop worker`: run until SIGTERM/SIGINT, then stop gracefully."""
    _configure_logging()
    try:
        worker = WorkerProcess(app, queues=queues, concurrency=concurrency)
    except ValueError as exc:   # e.g. --queues scoring,typo, an unusable GRADELOOP_BASE_MODEL or broker URL
        raise SystemExit(f"gradeloop worker: {exc}") from exc

    def _stop(signum, _frame):
        log.info("event=signal signal=%s action=graceful_stop", signal.Signals(signum).name)
        worker.stop()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    worker.run()
    if worker.consumer.running:
        # A job overran the grace period; its message is back on the broker and its lease freed.
        # Its thread cannot be interrupted, so leave without waiting for it.
        logging.shutdown()
        os._exit(0)
