"""Versions of an assignment's course model, with the metrics the promotion gate decided on."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lti_app.extensions import db
from lti_app.models.base import created_at_column


class ModelVersion(db.Model):
    __tablename__ = "model_versions"
    __table_args__ = (UniqueConstraint("assignment_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignments.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), default="candidate")  # candidate/promoted/rejected/retired
    approach: Mapped[str] = mapped_column(String(50))        # e.g. frozen-ridge, finetune
    path: Mapped[str] = mapped_column(String(1000))           # directory under the data dir
    onnx_path: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    metrics: Mapped[dict] = mapped_column(JSON, default=dict)  # qwk, agreement, confusion, smd, n...
    gate: Mapped[dict] = mapped_column(JSON, default=dict)     # reasons for promote/reject
    n_train: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = created_at_column()
    promoted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
