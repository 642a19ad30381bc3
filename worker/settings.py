"""Worker knobs: read from the Flask config (tests pass overrides), then `GRADELOOP_*` env vars.

Kept apart from `config/settings.py` so the web app's configuration stays small; every knob has a
default that suits one laptop, and docs/operations.md lists them for production.
"""
from __future__ import annotations

import os
from dataclasses import dataclass


def _get(app, name: str, default, cast):
    key = f"GRADELOOP_{name}"
    value = app.config.get(key) if app is not None else None
    if value in (None, ""):
        value = os.environ.get(key)
    if value in (None, ""):
        return default
    try:
        return cast(value)
    except (TypeError, ValueError):   # name the setting: a bare int("2h") leaves the operator guessing
        kind = {int: "a whole number", float: "a number"}.get(cast, cast.__name__)
        raise ValueError(f"{key} must be {kind}, got {value!r}") from None


@dataclass(frozen=True)
class WorkerSettings:
    broker_url: str
    prefix: str = "gradeloop"              # exchange name and queue-name prefix
    max_attempts: int = 5                  # deliveries before a failing message is dead-lettered
    retry_base_seconds: float = 2.0        # first backoff; doubles each attempt (x0.5-1 jitter)
    retry_max_seconds: float = 300.0
    # A temporary LMS failure (down, throttling, timing out) is retried for this long from its
    # first, using no attempt (a Moodle upgrade, a throttled bulk approval); 0: counted as attempts.
    lms_retry_hours: float = 24.0
    lease_seconds: float = 120.0           # job lease expiry; renewed every third of it
    training_stall_seconds: float = 1800.0  # a training silent this long is hung: its lease is freed
    scheduler_lease_seconds: float = 30.0
    relay_interval: float = 0.5            # outbox poll when idle
    relay_batch: int = 200
    relay_publishers: int = 4              # parallel confirmed publishers (RabbitMQ only)
    retrain_interval_hours: float = 24.0
    retrain_check_seconds: float = 60.0
    heartbeat_seconds: float = 10.0
    shutdown_grace_seconds: float = 30.0   # SIGTERM: wait this long for running jobs, then requeue
    consumer_timeout_ms: int = 24 * 3600 * 1000
    embedded_visibility_seconds: float = 60.0
    embedded_polling_interval: float = 0.2

    def __post_init__(self):
        if not self.lms_retry_hours >= 0:   # also refuses nan
            raise ValueError(f"GRADELOOP_LMS_RETRY_HOURS must be a number >= 0, got {self.lms_retry_hours!r}")

    @classmethod
    def from_app(cls, app) -> "WorkerSettings":
        d = cls.__dataclass_fields__
        values = {"broker_url": _get(app, "BROKER_URL", "memory://", str)}
        names = {"prefix": "QUEUE_PREFIX", "max_attempts": "RETRY_MAX_ATTEMPTS",
                 "retry_base_seconds": "RETRY_BASE_SECONDS", "retry_max_seconds": "RETRY_MAX_SECONDS",
                 "lms_retry_hours": "LMS_RETRY_HOURS",
                 "lease_seconds": "LEASE_SECONDS", "training_stall_seconds": "TRAINING_STALL_SECONDS",
                 "scheduler_lease_seconds": "SCHEDULER_LEASE_SECONDS",
                 "relay_interval": "RELAY_INTERVAL", "relay_batch": "RELAY_BATCH",
                 "relay_publishers": "RELAY_PUBLISHERS",
                 "retrain_interval_hours": "RETRAIN_INTERVAL_HOURS",
                 "retrain_check_seconds": "RETRAIN_CHECK_SECONDS",
                 "heartbeat_seconds": "HEARTBEAT_SECONDS",
                 "shutdown_grace_seconds": "SHUTDOWN_GRACE_SECONDS",
                 "consumer_timeout_ms": "CONSUMER_TIMEOUT_MS",
                 "embedded_visibility_seconds": "EMBEDDED_VISIBILITY_SECONDS",
                 "embedded_polling_interval": "EMBEDDED_POLLING_INTERVAL"}
        for attr, env in names.items():
            default = d[attr].default
            values[attr] = _get(app, env, default, type(default))
        return cls(**values)
