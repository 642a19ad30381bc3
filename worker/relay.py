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
    """Add a worker-made message (retry, dead copy, requeue) to the caller's transaction."""
    row = OutboxEvent(event_id=uuid.uuid4().hex, type=event_type or message.get("type", "?"),
                      routing_key=routing_key, payload=message,
                      created_at=utcnow() + timedelta(seconds=max(0.0, delay)))
    db.session.add(row)
    return row


def relay_once(publisher, batch: int = 200) -> int:
    """Publish one batch of due rows; returns how many were published. Inside an app context."""
    now = utcnow()
    query = (select(OutboxEvent).where(OutboxEvent.published_at.is_(None), OutboxEvent.created_at <= now)
             .order_by(OutboxEvent.created_at, OutboxEvent.id).limit(batch))
    if db.engine.dialect.name == "postgresql":
        # Two relays (a scheduler hand-over) never publish the same row at the same moment.
        query = query.with_for_update(skip_locked=True)
    rows = db.session.scalars(query).all()
    published = 0
    try:
        for row in rows:
            message = row.payload
            try:
                publisher.publish(message, row.routing_key,
                                  headers={"attempt": int(message.get("attempt", 0) or 0), "type": row.type})
            except Exception as exc:
                row.attempts = (row.attempts or 0) + 1
                row.last_error = f"{type(exc).__name__}: {exc}"[:2000]
                log.warning("event=relay_publish_failed outbox_id=%s error=%r", row.id, exc)
                break
            row.published_at = utcnow()
            published += 1
    finally:
        db.session.commit()
    return published

