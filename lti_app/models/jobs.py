"""Worker bookkeeping: leases (one job per key at a time), processed-message ids, dead letters,
heartbeats and training progress for the UI."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from lti_app.extensions import db
from lti_app.models.base import created_at_column


class JobLease(db.Model):
    """A lease on a job key (e.g. `train:assignment:7`); expires so a crashed worker frees it."""

    __tablename__ = "job_leases"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    owner: Mapped[str] = mapped_column(String(200))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    acquired_at: Mapped[datetime] = created_at_column()


class ProcessedMessage(db.Model):
    """Message ids whose work is committed: a redelivered message is acknowledged and skipped."""

    __tablename__ = "processed_messages"

    message_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    queue: Mapped[str] = mapped_column(String(100))
    processed_at: Mapped[datetime] = created_at_column(index=True)   # housekeeping deletes by age


class MessageDelivery(db.Model):
    """Deliveries of a message that have not reached an outcome yet. The row is counted up (and
    committed) before the handler runs and deleted with the outcome, so what it counts are the
    deliveries whose worker died mid-job (killed, out of memory, a crash in native code): past
    the retry limit the next delivery is dead-lettered instead of killing one worker after
    another."""

    __tablename__ = "message_deliveries"

    message_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    deliveries: Mapped[int] = mapped_column(Integer, default=0)
    last_at: Mapped[datetime] = created_at_column()


class DeadLetter(db.Model):
    __tablename__ = "dead_letters"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[str] = mapped_column(String(64), index=True)
    queue: Mapped[str] = mapped_column(String(100))
    routing_key: Mapped[str] = mapped_column(String(100))
    payload: Mapped[dict] = mapped_column(JSON)
    reason: Mapped[str] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    assignment_id: Mapped[int | None] = mapped_column(
        ForeignKey("assignments.id", ondelete="CASCADE"), nullable=True, index=True)
    created_at: Mapped[datetime] = created_at_column()
    requeued_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class WorkerHeartbeat(db.Model):
    __tablename__ = "worker_heartbeats"

    worker_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    hostname: Mapped[str] = mapped_column(String(200))
    queues: Mapped[list] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(50), default="idle")
    last_seen: Mapped[datetime] = created_at_column()


class TrainingRun(db.Model):
    """One training attempt for an assignment; progress fields drive the UI's progress bar."""

    __tablename__ = "training_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignments.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="queued")  # queued/running/done/failed
    phase: Mapped[str] = mapped_column(String(50), default="")         # e.g. features, fine-tune, export
    step: Mapped[int] = mapped_column(Integer, default=0)
    total_steps: Mapped[int] = mapped_column(Integer, default=0)
    epoch: Mapped[float] = mapped_column(Float, default=0.0)
    eta_seconds: Mapped[float | None] = mapped_column(Float, nullable=True)
    message: Mapped[str] = mapped_column(Text, default="")
    n_examples: Mapped[int] = mapped_column(Integer, default=0)
    model_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("model_versions.id", ondelete="SET NULL"), nullable=True)
    started_at: Mapped[datetime] = created_at_column()
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
