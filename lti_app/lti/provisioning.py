"""Turn a verified launch into rows: Course, User, CourseRole, ResourceLink (+ AGS/NRPS URLs).

Concurrent first launches of one course race on the unique keys; each insert runs in a
savepoint and falls back to the row the other request created.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError

from lti_app.extensions import db
from lti_app.lti import claims as C
from lti_app.lti.errors import LaunchError
from lti_app.lti.roles import resolve_role
from lti_app.lti.validation import VerifiedLaunch
from lti_app.models import Course, CourseRole, ResourceLink, Role, User


@dataclass
class Provisioned:
    course: Course
    user: User
    role: Role
    resource_link: ResourceLink | None


def _get_or_create(model, defaults: dict | None = None, **keys):
    row = db.session.scalar(db.select(model).filter_by(**keys))
    if row is not None:
        return row
    try:
        with db.session.begin_nested():
            row = model(**keys, **(defaults or {}))
            db.session.add(row)
        return row
    except IntegrityError:
        return db.session.scalar(db.select(model).filter_by(**keys))


def _set(row, **values) -> None:
    """Assign only changed values, so a repeat launch does not rewrite rows for nothing."""
    for name, value in values.items():
        if getattr(row, name) != value:
            setattr(row, name, value)


def _user_name(body: dict) -> str:
    name = body.get("name") or " ".join(p for p in (body.get("given_name"), body.get("family_name")) if p)
    return str(name or "")[:500]


def provision(launch: VerifiedLaunch) -> Provisioned:
    body, platform = launch.claims, launch.platform
    role = resolve_role(body.get(C.ROLES) or [])
    if role is None:
        raise LaunchError("Your role in this course is not one Gradeloop supports (teacher, teaching "
                          "assistant, student or administrator).", status=403, code="unsupported_role")
    if launch.message_type == C.DEEP_LINKING_REQUEST and not role.can_grade:
        raise LaunchError("Only the course's teachers can add Gradeloop activities.", status=403,
                          code="learner_deep_link")
    context = body.get(C.CONTEXT)
    if not isinstance(context, dict) or not context.get("id"):
        raise LaunchError("The launch does not say which course it comes from (no context claim); "
                          "open Gradeloop from inside a course.", code="missing_context")

    course = _get_or_create(Course, platform_id=platform.id, context_id=str(context["id"])[:255])
    _set(course, title=str(context.get("title") or course.title or "")[:500],
         label=str(context.get("label") or course.label or "")[:255])
    ags = body.get(C.AGS_ENDPOINT) if isinstance(body.get(C.AGS_ENDPOINT), dict) else {}
    nrps = body.get(C.NRPS) if isinstance(body.get(C.NRPS), dict) else {}
    if ags.get("lineitems"):
        _set(course, ags_lineitems_url=str(ags["lineitems"])[:1000])
    if nrps.get("context_memberships_url"):
        _set(course, nrps_url=str(nrps["context_memberships_url"])[:1000])

    user = _get_or_create(User, platform_id=platform.id, sub=str(body["sub"])[:255])
    _set(user, name=_user_name(body) or user.name, email=str(body.get("email") or user.email or "")[:500])
    db.session.flush()
    membership = _get_or_create(CourseRole, defaults={"role": role}, course_id=course.id, user_id=user.id)
    _set(membership, role=role)

    link = None
    rl_claim = body.get(C.RESOURCE_LINK)
    if launch.message_type == C.RESOURCE_LINK_REQUEST and isinstance(rl_claim, dict):
        link = _get_or_create(ResourceLink, course_id=course.id, resource_link_id=str(rl_claim["id"])[:255])
        _set(link, title=str(rl_claim.get("title") or link.title or "")[:500])
        if ags.get("lineitem"):
            _set(link, ags_lineitem_url=str(ags["lineitem"])[:1000])
        if isinstance(ags.get("scope"), list):
            _set(link, ags_scopes=ags["scope"])
        if isinstance(body.get(C.CUSTOM), dict):
            _set(link, custom=body[C.CUSTOM])
    db.session.flush()
    return Provisioned(course=course, user=user, role=role, resource_link=link)
