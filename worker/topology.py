"""Broker topology: one direct exchange and a durable queue per kind of work.

Releases before 2026-11-29 also copied every dead letter to a `<prefix>.dead` queue that nothing
consumed: it grew for ever and kept reasons (which may name a student) past the dead letter's
deletion. Dead letters live only in the database now; `retire_dead_queue` deletes the old queue.

Names derive from a prefix (default `gradeloop`) so tests and benchmarks can run beside a live
worker on the same RabbitMQ without stealing its messages.
"""
from __future__ import annotations

from kombu import Exchange, Queue

WORK_QUEUES = ("scoring", "training", "gradebook")
RETIRED_DEAD = "dead"


class Topology:
    def __init__(self, prefix: str = "gradeloop", consumer_timeout_ms: int | None = None):
        self.prefix = prefix
        self.exchange = Exchange(prefix, type="direct", durable=True, delivery_mode="persistent")
        self.consumer_timeout_ms = consumer_timeout_ms

    def queue_name(self, routing_key: str) -> str:
        return f"{self.prefix}.{routing_key}"

    def queue(self, routing_key: str) -> Queue:
        args = {}
        if routing_key == "training" and self.consumer_timeout_ms:
            # RabbitMQ >= 3.12 honours it per queue; older nodes need `consumer_timeout` in
            # rabbitmq.conf (docker-compose.yml sets both) so a GPU fine-tune is not redelivered.
            args["x-consumer-timeout"] = int(self.consumer_timeout_ms)
        return Queue(self.queue_name(routing_key), exchange=self.exchange, routing_key=routing_key,
                     durable=True, queue_arguments=args or None)

    def work_queues(self, names=None) -> list[Queue]:
        names = list(names or WORK_QUEUES)
        unknown = [n for n in names if n not in WORK_QUEUES]
        if unknown:
            raise ValueError(f"unknown queue(s) {unknown}; choose from {', '.join(WORK_QUEUES)}")
        return [self.queue(n) for n in names]

    def all_queues(self) -> list[Queue]:
        return [self.queue(n) for n in WORK_QUEUES]

    def declare(self, channel) -> None:
        """Declare the exchange and every queue (idempotent; done on each (re)connect)."""
        self.exchange(channel).declare()
        for q in self.all_queues():
            q(channel).declare()

    def retire_dead_queue(self, channel) -> None:
        """Delete the old releases' dead-letter copy queue and the copies on it (the database keeps
        the dead letters); nothing when it is gone already."""
        self.queue(RETIRED_DEAD)(channel).delete()

    def delete(self, channel) -> None:
        """Remove queues and exchange (tests and benchmarks clean up their prefix)."""
        for q in (*self.all_queues(), self.queue(RETIRED_DEAD)):
            try:
                q(channel).delete()
            except Exception:  # already gone is fine for cleanup
                pass
        try:
            self.exchange(channel).delete()
        except Exception:
            pass
