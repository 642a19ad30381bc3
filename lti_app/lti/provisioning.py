"""Turn a verified launch into rows: Course, User, CourseRole, ResourceLink (+ AGS/NRPS URLs).

A returning user costs one SELECT per row (and an UPDATE only when something changed). A new
row is one `INSERT ... ON CONFLICT DO NOTHING RETURNING id`: concurrent first launches of one
course race on the unique keys, and the loser simply reads the winner's row (no savepoints).
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from lti_app.extensions import db
from lti_app.lti import claims as C
from lti_app.lti.errors import LaunchError
from lti_app.lti.roles import resolve_role
from lti_app.lti.validation import VerifiedLaunch
from lti_app.models import Course, CourseRole, ResourceLink, Role, User


@dataclass
class Provisioned:
    course_id: int
    user_id: int
    role: Role
    resource_link_id: int | None


def _ensure(model, keys: dict, values: dict) -> int:
    """Id of the row with `keys`, created with `values` or updated to them (only if they differ).
    Empty values are skipped: a launch without a name or title does not erase the known one.
    Plain Core statements: this runs on every launch and ORM objects cost more than the SQL."""
    values = {k: v for k, v in values.items() if v}
    query = select(model.id, *(getattr(model, k) for k in values)).where(
        *(getattr(model, k) == v for k, v in keys.items()))
    row = db.session.execute(query).first()
    if row is None:
        insert = pg_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert
        stmt = (insert(model).values(**keys, **values)
                .on_conflict_do_nothing(index_elements=list(keys)).returning(model.id))
        new_id = db.session.execute(stmt).scalar()
        if new_id is not None:
            return new_id
        row = db.session.execute(query).first()   # lost the race: theirs
    changed = {k: v for k, v in values.items() if getattr(row, k) != v}
    if changed:
        db.session.execute(update(model).where(model.id == row.id).values(**changed)
                           .execution_options(synchronize_session=False))
    return row.id


def _text(value, limit: int) -> str:
    return str(value or "")[:limit]


def _user_name(body: dict) -> str:
    name = body.get("name") or " ".join(p for p in (body.get("given_name"), body.get("family_name")) if p)
    return _text(name, 500)


def _claim(body: dict, name: str) -> dict:
    value = body.get(name)
    return value if isinstance(value, dict) else {}


def provision(launch: VerifiedLaunch) -> Provisioned:
    body, platform = launch.claims, launch.platform
    role = resolve_role(body.get(C.ROLES) or [])
    if role is None:
        raise LaunchError("Your role in this course is not one Gradeloop supports (teacher, teaching "
                          "assistant, student or administrator).", status=403, code="unsupported_role")
    if launch.message_type == C.DEEP_LINKING_REQUEST and not role.can_grade:
        raise LaunchError("Only the course's teachers can add Gradeloop activities.", status=403,
                          code="learner_deep_link")
    context = _claim(body, C.CONTEXT)
    if not context.get("id"):
        raise LaunchError("The launch does not say which course it comes from (no context claim); "
                          "open Gradeloop from inside a course.", code="missing_context")
    ags, nrps = _claim(body, C.AGS_ENDPOINT), _claim(body, C.NRPS)

    course_values = {"title": _text(context.get("title"), 500), "label": _text(context.get("label"), 255)}
    if ags.get("lineitems"):
        course_values["ags_lineitems_url"] = _text(ags["lineitems"], 1000)
    if nrps.get("context_memberships_url"):
        course_values["nrps_url"] = _text(nrps["context_memberships_url"], 1000)
    course_id = _ensure(Course, {"platform_id": platform.id, "context_id": _text(context["id"], 255)},
                        course_values)

    user_values = {"name": _user_name(body)}
    if body.get("email"):
        user_values["email"] = _text(body["email"], 500)
    user_id = _ensure(User, {"platform_id": platform.id, "sub": _text(body["sub"], 255)}, user_values)
    _ensure(CourseRole, {"course_id": course_id, "user_id": user_id}, {"role": role})

    link_id = None
    link = _claim(body, C.RESOURCE_LINK)
    if launch.message_type == C.RESOURCE_LINK_REQUEST and link.get("id"):
        link_values = {"title": _text(link.get("title"), 500)}
        if ags.get("lineitem"):
            link_values["ags_lineitem_url"] = _text(ags["lineitem"], 1000)
        if isinstance(ags.get("scope"), list):
            link_values["ags_scopes"] = ags["scope"]
        if isinstance(body.get(C.CUSTOM), dict):
            link_values["custom"] = body[C.CUSTOM]
        link_id = _ensure(ResourceLink, {"course_id": course_id, "resource_link_id": _text(link["id"], 255)},
                          link_values)
    return Provisioned(course_id=course_id, user_id=user_id, role=role, resource_link_id=link_id)
