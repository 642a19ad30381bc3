"""LMS platforms registered with the tool, their deployments, and one-time login state/nonces."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lti_app.extensions import db
from lti_app.models.base import created_at_column


class Platform(db.Model):
    """One LMS registration: issuer + client id, its OIDC/token/JWKS endpoints."""

    __tablename__ = "platforms"
    __table_args__ = (UniqueConstraint("issuer", "client_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    issuer: Mapped[str] = mapped_column(String(500))
    client_id: Mapped[str] = mapped_column(String(255))
    auth_login_url: Mapped[str] = mapped_column(String(1000))
    auth_token_url: Mapped[str] = mapped_column(String(1000))
    auth_audience: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    key_set_url: Mapped[str] = mapped_column(String(1000))
    # Cached platform JWKS; refetched once when a launch names an unknown kid, and after its max age.
    key_set: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    key_set_fetched_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # Seconds the cached JWKS counts as fresh (the platform's Cache-Control max-age, floored and
    # capped when fetched; None: the default). Past it the next launch refetches (jwks_cache.py).
    key_set_max_age: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # Set by `gradeloop platform disable`: logins and launches are refused, its courses are kept.
    disabled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    product_family: Mapped[str | None] = mapped_column(String(100), nullable=True)  # canvas, moodle...
    created_at: Mapped[datetime] = created_at_column()

    deployments: Mapped[list[Deployment]] = relationship(
        back_populates="platform", cascade="all, delete-orphan")

    def has_deployment(self, deployment_id: str) -> bool:
        return any(d.deployment_id == deployment_id for d in self.deployments)


class Deployment(db.Model):
    __tablename__ = "deployments"
    __table_args__ = (UniqueConstraint("platform_id", "deployment_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platforms.id", ondelete="CASCADE"))
    deployment_id: Mapped[str] = mapped_column(String(255))
    platform: Mapped[Platform] = relationship(back_populates="deployments")


class LoginState(db.Model):
    """OIDC login state, bound to the browser that started the login; consumed by one launch."""

    __tablename__ = "login_states"

    state: Mapped[str] = mapped_column(String(128), primary_key=True)
    nonce: Mapped[str] = mapped_column(String(128))
    browser_binding: Mapped[str] = mapped_column(String(128))  # hash of a cookie set at login
    platform_id: Mapped[int] = mapped_column(ForeignKey("platforms.id", ondelete="CASCADE"))
    target_link_uri: Mapped[str] = mapped_column(String(1000), default="")
    # The login request's parameters: they rebuild the login for "open in a new window" when the
    # iframe refused our cookie, and say whether the LTI platform-storage flow was used.
    login_params: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    created_at: Mapped[datetime] = created_at_column()
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class UsedNonce(db.Model):
    """Every id_token nonce seen, so a replayed token is refused even with a fresh state."""

    __tablename__ = "used_nonces"

    nonce: Mapped[str] = mapped_column(String(255), primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platforms.id", ondelete="CASCADE"), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class DeepLinkingRequest(db.Model):
    """Settings of a verified Deep Linking launch, kept server-side (keyed by the tool session's
    launch_id) until the longest tool session is over (lti.housekeeping), and the assignment the
    tool answered the platform with."""

    __tablename__ = "deep_linking_requests"

    launch_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platforms.id", ondelete="CASCADE"))
    deployment_id: Mapped[str] = mapped_column(String(255))
    settings: Mapped[dict] = mapped_column(JSON)
    # Set once the tool answered: a second post of the form must not add a twin assignment.
    answered_assignment_id: Mapped[int | None] = mapped_column(ForeignKey("assignments.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = created_at_column()
