"""Turn a verified launch into rows: Course, User, CourseRole, ResourceLink (+ AGS/NRPS URLs).

A returning user in a known course with nothing new costs one SELECT (joins); otherwise
each row costs a SELECT (and an UPDATE only when something changed), and a new row is one
`INSERT ... ON CONFLICT DO NOTHING RETURNING id`: concurrent first launches of one course race
on the unique keys, and the loser simply reads the winner's row (no savepoints).
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from lti_app.coursework.course_copy import CUSTOM_PARAM
from lti_app.extensions import db
from lti_app.lti import claims as C
from lti_app.lti import registry
from lti_app.lti.errors import LaunchError
from lti_app.lti.roles import resolve_role
from lti_app.lti.validation import LONE_SURROGATE, VerifiedLaunch, storable
from lti_app.models import Course, CourseRole, Platform, ResourceLink, Role, User


# The custom parameters some part of Gradeloop reads. The link row is shared by everyone who
# launches it and no privacy export or erasure covers it: a per-person value an LMS admin added
# (Canvas's `$Canvas.user.loginId`, Moodle's `$User.idnumber`) would hold the last launcher's and
# rewrite the row on every launch. Migration 0011 applied the same list to older rows.
KEPT_CUSTOM_PARAMS = frozenset({CUSTOM_PARAM})


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
    """A claim as text for a column of `limit` characters: a string or number (a JSON object, list
    or boolean is no title or name: ""), without NUL, which PostgreSQL refuses in text and no
    title, name or URL needs. Half of a character (an emoji cut in two by the LMS) becomes U+FFFD,
    as a browser shows it: the name or title is still worth keeping."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        return ""
    return LONE_SURROGATE.sub("\ufffd", str(value).replace("\x00", ""))[:limit]


def _refuse_half_characters(value, what: str, kind: str) -> None:
    if isinstance(value, str) and LONE_SURROGATE.search(value):
        raise LaunchError(f"The launch's {what} contains half of a character (part of an emoji or symbol "
                          f"cut in two), which Gradeloop does not accept in {kind}. Ask your LMS "
                          f"administrator.", code="bad_claim")


def _id(value, what: str) -> str:
    """A claim that names a row (course, person, resource link), kept as sent: a NUL or half of a
    character is refused, not removed or replaced, since that could name another row."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise LaunchError(f"The launch's {what} is not an id (a string).", code="bad_claim")
    if "\x00" in str(value):
        raise LaunchError(f"The launch's {what} contains a NUL character, which Gradeloop does not accept "
                          f"in an id. Ask your LMS administrator.", code="bad_claim")
    _refuse_half_characters(value, what, "an id")
    return str(value)[:255]


def _url(value, what: str) -> str:
    """A service URL claim: a character replaced would call another address."""
    _refuse_half_characters(value, what, "an address")
    return _text(value, 1000)


def _user_name(body: dict) -> str:
    """`name`, or else given and family name; a part that is not a string is skipped."""
    name = body.get("name")
    if not isinstance(name, str) or not name:
        parts = (body.get("given_name"), body.get("family_name"))
        name = " ".join(part for part in parts if isinstance(part, str) and part)
    return _text(name, 500)


def _claim(body: dict, name: str) -> dict:
    value = body.get(name)
    return value if isinstance(value, dict) else {}


def _kept_custom(body: dict) -> dict | None:
    """The launch's custom parameters that Gradeloop reads (`KEPT_CUSTOM_PARAMS`); None when none.
    Only text without NUL or half a character: the value is looked up in text columns, which cannot
    hold those (the landing page failed), and dropping it leaves the link as one without the parameter."""
    return {k: v for k, v in _claim(body, C.CUSTOM).items()
            if k in KEPT_CUSTOM_PARAMS and isinstance(v, str) and storable(v)} or None


def _known_unchanged(platform_id: int, course_key: dict, course_values: dict, user_key: dict,
                     user_values: dict, role: Role, link_key: dict | None, link_values: dict) -> Provisioned | None:
    """A returning user in a known course and link with nothing to update: one SELECT (inner
    joins) instead of four. None sends the launch down the row-by-row path."""
    wanted = {**{f"c_{k}": v for k, v in course_values.items() if v},
              **{f"u_{k}": v for k, v in user_values.items() if v},
              **({f"l_{k}": v for k, v in link_values.items() if v} if link_key else {})}
    columns = [Course.id.label("c_id"), User.id.label("u_id"), CourseRole.role.label("r_role")]
    columns += [getattr(Course, k[2:]).label(k) for k in wanted if k.startswith("c_")]
    columns += [getattr(User, k[2:]).label(k) for k in wanted if k.startswith("u_")]
    query = select(*columns).select_from(Course).join(
        User, and_(User.platform_id == platform_id, User.sub == user_key["sub"])).join(
        CourseRole, and_(CourseRole.course_id == Course.id, CourseRole.user_id == User.id))
    if link_key:
        query = query.add_columns(ResourceLink.id.label("l_id"), *(
            getattr(ResourceLink, k[2:]).label(k) for k in wanted if k.startswith("l_")))
        query = query.join(ResourceLink, and_(ResourceLink.course_id == Course.id,
                                              ResourceLink.resource_link_id == link_key["resource_link_id"]))
    row = db.session.execute(query.where(Course.platform_id == platform_id,
                                         Course.context_id == course_key["context_id"])).first()
    if row is None or row.r_role != role or any(getattr(row, k) != v for k, v in wanted.items()):
        return None
    return Provisioned(course_id=row.c_id, user_id=row.u_id, role=role,
                       resource_link_id=row.l_id if link_key else None)


def _note_product_family(launch: VerifiedLaunch) -> None:
    """Learn the platform's product family ("canvas", "moodle") from its signed launches. A platform
    added by hand (`gradeloop platform add`) has none, and the gradebook (Canvas's submission
    extension) and the launch error page (Moodle cannot be launched twice from one login) need it.
    A family set by registration or by an administrator is kept. Costs one comparison per launch;
    an UPDATE only the first time."""
    family = _text(_claim(launch.claims, C.TOOL_PLATFORM).get("product_family_code"), 100).strip().lower()
    if family and not launch.platform.product_family:
        db.session.execute(update(Platform).where(Platform.id == launch.platform.id)
                           .values(product_family=family).execution_options(synchronize_session=False))
        registry.forget()


def provision(launch: VerifiedLaunch) -> Provisioned:
    body, platform = launch.claims, launch.platform
    _note_product_family(launch)
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
    # Service URLs are stored as the claims give them: `lms.service_urls` checks each one before every
    # call (DNS changes, and rows stored before a policy change are covered too).
    ags, nrps = _claim(body, C.AGS_ENDPOINT), _claim(body, C.NRPS)

    course_key = {"platform_id": platform.id, "context_id": _id(context["id"], "course id (context id)")}
    course_values = {"title": _text(context.get("title"), 500), "label": _text(context.get("label"), 255),
                     "ags_lineitems_url": _url(ags.get("lineitems"), "gradebook (AGS lineitems) address"),
                     "nrps_url": _url(nrps.get("context_memberships_url"), "course roster (NRPS) address")}
    user_key = {"platform_id": platform.id, "sub": _id(body["sub"], "user id (sub)")}
    user_values = {"name": _user_name(body), "email": _text(body.get("email"), 500)}
    link_key, link_values = None, {}
    link = _claim(body, C.RESOURCE_LINK)
    if launch.message_type == C.RESOURCE_LINK_REQUEST and link.get("id"):
        link_key = {"course_id": None, "resource_link_id": _id(link["id"], "resource link id")}
        link_values = {"title": _text(link.get("title"), 500),
                       "ags_lineitem_url": _url(ags.get("lineitem"), "gradebook column (AGS lineitem) address"),
                       "ags_scopes": ags["scope"] if isinstance(ags.get("scope"), list) else None,
                       "custom": _kept_custom(body)}

    known = _known_unchanged(platform.id, course_key, course_values, user_key, user_values, role,
                             link_key, link_values)
    if known is not None:
        return known
    course_id = _ensure(Course, course_key, course_values)
    user_id = _ensure(User, user_key, user_values)
    _ensure(CourseRole, {"course_id": course_id, "user_id": user_id}, {"role": role})
    link_id = None
    if link_key:
        link_id = _ensure(ResourceLink, {**link_key, "course_id": course_id}, link_values)
    return Provisioned(course_id=course_id, user_id=user_id, role=role, resource_link_id=link_id)
