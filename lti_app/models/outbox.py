"""Transactional outbox: events are written in the same transaction as the change they describe,
then relayed to the broker, so a committed request never loses its event."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from lti_app.extensions import db
from lti_app.models.base import created_at_column


class OutboxEvent(db.Model):
    __tablename__ = "outbox_events"
    # The dashboard looks for recent "training requested" events every 2 s while a run is awaited
    # (`dashboard.report._pending_reasons`): without it, a scan of 30 days of events.
    __table_args__ = (Index("ix_outbox_events_type_created_at", "type", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[str] = mapped_column(String(64), unique=True)   # uuid, also the message id
    type: Mapped[str] = mapped_column(String(100))                    # e.g. submission.created
    routing_key: Mapped[str] = mapped_column(String(100))
    payload: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = created_at_column()
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
