"""Outbox relay: publishes committed `outbox_events` rows to the broker, oldest due first.

The outbox is also the worker's delay line. A retry or a requeued dead letter is a new outbox row
whose `created_at` is the time it becomes due (now + backoff), so delayed redelivery works the same
on RabbitMQ and the embedded broker, survives restarts, and needs no broker plugin. At-least-once:
a crash between publish and the `published_at` commit republishes the row, and consumers skip the
duplicate by message id.
"""
from __future__ import annotations

import logging
import uuid
from datetime import timedelta

from sqlalchemy import select

from lti_app.extensions import db
from lti_app.models import OutboxEvent
from lti_app.models.base import utcnow

log = logging.getLogger("gradeloop.worker.relay")


def enqueue(message: dict, routing_key: str, delay: float = 0.0, event_type: str | None = None) -> OutboxEvent:
    """Add a worker-made message (retry, deferral, requeue) to the caller's transaction."""
    row = OutboxEvent(event_id=uuid.uuid4().hex, type=event_type or message.get("type", "?"),
                      routing_key=routing_key, payload=message,
                      created_at=utcnow() + timedelta(seconds=max(0.0, delay)))
    db.session.add(row)
    return row


def relay_once(publishers, batch: int = 200) -> int:
    """Publish one batch of due rows through a `PublisherPool`; returns how many were published.
    Runs inside an app context."""
    now = utcnow()
    query = (select(OutboxEvent).where(OutboxEvent.published_at.is_(None), OutboxEvent.created_at <= now)
             .order_by(OutboxEvent.created_at, OutboxEvent.id).limit(batch))
    if db.engine.dialect.name == "postgresql":
        # Two relays (a scheduler hand-over) never publish the same row at the same moment.
        query = query.with_for_update(skip_locked=True)
    rows = db.session.scalars(query).all()
    if not rows:
        db.session.commit()
        return 0
    items = [(row.payload, row.routing_key,
              {"attempt": int(row.payload.get("attempt", 0) or 0), "type": row.type}) for row in rows]
    published = 0
    try:
        results = publishers.publish_many(items)
        stamp = utcnow()
        for row, result in zip(rows, results):
            if result is None:
                row.published_at = stamp
                published += 1
            elif isinstance(result, Exception):
                row.attempts = (row.attempts or 0) + 1
                row.last_error = f"{type(result).__name__}: {result}"[:2000]
                log.warning("event=relay_publish_failed outbox_id=%s error=%r", row.id, result)
    finally:
        db.session.commit()
    return published
