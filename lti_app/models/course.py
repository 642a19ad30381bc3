"""Courses (LTI contexts), users, their role in each course, and resource links."""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, DateTime, Enum, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lti_app.extensions import db
from lti_app.models.base import created_at_column, utcnow


class Role(str, enum.Enum):
    INSTRUCTOR = "instructor"
    TA = "ta"
    LEARNER = "learner"
    ADMINISTRATOR = "administrator"

    @property
    def can_grade(self) -> bool:
        return self in (Role.INSTRUCTOR, Role.TA, Role.ADMINISTRATOR)


class Course(db.Model):
    __tablename__ = "courses"
    __table_args__ = (UniqueConstraint("platform_id", "context_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platforms.id", ondelete="CASCADE"))
    context_id: Mapped[str] = mapped_column(String(255))
    title: Mapped[str] = mapped_column(String(500), default="")
    label: Mapped[str] = mapped_column(String(255), default="")
    # Service endpoints from the latest launch (AGS line items, NRPS memberships).
    ags_lineitems_url: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    nrps_url: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    created_at: Mapped[datetime] = created_at_column()


class User(db.Model):
    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("platform_id", "sub"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platforms.id", ondelete="CASCADE"))
    sub: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(500), default="")
    email: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = created_at_column()


class CourseRole(db.Model):
    __tablename__ = "course_roles"
    __table_args__ = (UniqueConstraint("course_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    # Its own index, as `Submission.user_id`: the unique one starts with the course.
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[Role] = mapped_column(Enum(Role, native_enum=False, length=20))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)

    course: Mapped[Course] = relationship()
    user: Mapped[User] = relationship()


class ResourceLink(db.Model):
    __tablename__ = "resource_links"
    __table_args__ = (UniqueConstraint("course_id", "resource_link_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    resource_link_id: Mapped[str] = mapped_column(String(255))
    title: Mapped[str] = mapped_column(String(500), default="")
    ags_lineitem_url: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    ags_scopes: Mapped[list | None] = mapped_column(JSON, nullable=True)
    custom: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    created_at: Mapped[datetime] = created_at_column()

    course: Mapped[Course] = relationship()
