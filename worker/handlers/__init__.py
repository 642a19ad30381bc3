"""Handler registry: one function per event type, called by the consumer with a `Job`.

A handler does its work in `db.session`; the consumer adds the `processed_messages` row and
commits both together, so a redelivered message whose work was committed is skipped. Raise
`worker.errors.PermanentError` (dead-letter now), `Deferred` (run later, no attempt used) or any
other exception (retried with backoff, then dead-lettered).

Extra handlers come from plugin modules named in `GRADELOOP_WORKER_PLUGINS` (comma separated),
imported at worker start; the test suite uses this for probe events (tests/worker/plugins.py).
"""
from __future__ import annotations

import importlib
import os
from dataclasses import dataclass
from typing import Callable

HANDLERS: dict[str, Callable] = {}
DEAD_HOOKS: dict[str, Callable] = {}
BUILTIN = ("worker.handlers.scoring", "worker.handlers.training", "worker.handlers.gradebook",
           "worker.autofeedback")


@dataclass
class Job:
    app: object
    message_id: str
    event_type: str
    payload: dict
    envelope: dict
    attempt: int
    queue: str
    worker_id: str
    settings: object


def handles(event_type: str, on_dead: Callable | None = None):
    """Decorator: register `fn(job)` for `event_type`; `on_dead(job, reason)` runs when it dies."""
    def register(fn):
        HANDLERS[event_type] = fn
        if on_dead is not None:
            DEAD_HOOKS[event_type] = on_dead
        return fn
    return register


def load_handlers(plugins: str | None = None) -> dict[str, Callable]:
    for name in BUILTIN:
        importlib.import_module(name)
    spec = plugins if plugins is not None else os.environ.get("GRADELOOP_WORKER_PLUGINS", "")
    for name in filter(None, (p.strip() for p in spec.split(","))):
        importlib.import_module(name)
    return HANDLERS
