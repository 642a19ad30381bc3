"""An LMS registered with Gradeloop again: its courses carried over to the new registration.

An administrator who deletes the tool in Moodle and adds it again, or makes a new developer key in
Canvas, gives Gradeloop a second registration of the same issuer with a new client id. Courses and
people are stored per registration (`Course.platform_id`, `User.platform_id`), so every launch
through the new one found an empty course. The registration page says when an earlier
registration of the same school holds courses (`earlier_with_courses`), and `gradeloop platform
move-courses OLD NEW` moves them (`move_courses`): the same LMS, the same course and user ids, so
only the registration they belong to changes.

Which registrations are the same school (`same_school`): the same issuer, unless the issuer is one
that many schools share (`SHARED_ISSUER_HOSTS`: Canvas cloud, whose login, token and key set URLs
are shared as well), where only a common deployment id says so; otherwise the administrator
confirms it (`--same-school`).

The copies a launch through the new registration made of a course or person the old one holds
are retired, not deleted (`_retire`): a tool session names its course, person and resource link by
database id, and SQLite hands a deleted row's id to the next row made, so a session of the
deleted copy would have opened a stranger's course. A retired copy keeps its id, loses its LMS id
(no launch finds it again) and goes to the old registration, which the move disables, so its
sessions are refused.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import NamedTuple
from urllib.parse import urlparse

from sqlalchemy.exc import IntegrityError

from lti_app.extensions import db
from lti_app.locking import for_update
from lti_app.models import Assignment, Course, CourseRole, Grade, Platform, Submission, User
from lti_app.platforms import get_platform

# Hosts of issuers that every school on that service has: Canvas cloud (production, beta, test),
# Blackboard Learn SaaS, Schoology. Two registrations of one of them may be two schools.
SHARED_ISSUER_HOSTS = frozenset({"canvas.instructure.com", "canvas.beta.instructure.com",
                                 "canvas.test.instructure.com", "blackboard.com", "schoology.schoology.com"})
# Prefix of a retired copy's LMS id (context id, sub): no LMS sends it, so no launch matches it.
RETIRED = "gradeloop-retired:"


class Moved(NamedTuple):
    courses: int
    people: int
    retired_courses: int
    retired_people: int


def is_shared_issuer(issuer: str) -> bool:
    return (urlparse(issuer).hostname or "").lower() in SHARED_ISSUER_HOSTS


def same_school(one: Platform, other: Platform) -> bool:
    """Whether two registrations are known to be of one LMS (module docstring)."""
    if one.issuer != other.issuer:
        return False
    if not is_shared_issuer(one.issuer):
        return True
    return bool({d.deployment_id for d in one.deployments} & {d.deployment_id for d in other.deployments})


def _live(model, key, platform_id: int):
    return db.select(db.func.count()).select_from(model).where(model.platform_id == platform_id,
                                                                ~key.startswith(RETIRED))


def live_holdings(platform_id: int) -> tuple[int, int]:
    """(courses, people) of the registration, retired copies left out."""
    return (db.session.scalar(_live(Course, Course.context_id, platform_id)),
            db.session.scalar(_live(User, User.sub, platform_id)))


def earlier_with_courses(platform: Platform) -> list[tuple[Platform, int]]:
    """Other registrations of `platform`'s school that hold courses, with how many."""
    others = db.session.scalars(db.select(Platform).where(Platform.issuer == platform.issuer,
                                                          Platform.id != platform.id).order_by(Platform.id))
    return [(other, courses) for other in others
            if same_school(platform, other) and (courses := live_holdings(other.id)[0])]


def _both(model, key, from_id: int, to_id: int) -> list[tuple]:
    """(old row, new row) of `model` for each `key` value both registrations have (the same
    course, or person, launched through each)."""
    theirs = {getattr(row, key): row for row in db.session.scalars(db.select(model).filter_by(platform_id=to_id))}
    return [(row, theirs[getattr(row, key)]) for row in db.session.scalars(db.select(model).filter_by(platform_id=from_id))
            if getattr(row, key) in theirs]


def _merge_course(kept: Course, twin: Course) -> None:
    """The empty copy's people join the kept course; its service URLs are the newer ones (they came
    with a launch through the new registration, and Moodle's name the tool's new type id)."""
    held = db.select(CourseRole.user_id).where(CourseRole.course_id == kept.id)
    db.session.execute(db.delete(CourseRole).where(CourseRole.course_id == twin.id, CourseRole.user_id.in_(held)))
    db.session.execute(db.update(CourseRole).where(CourseRole.course_id == twin.id).values(course_id=kept.id))
    newer = {k: v for k in ("ags_lineitems_url", "nrps_url") if (v := getattr(twin, k))}
    if newer:
        db.session.execute(db.update(Course).where(Course.id == kept.id).values(**newer))


def _merge_person(kept: User, twin: User) -> None:
    """The person launched through both: the new registration's copy becomes the old one."""
    held = db.select(CourseRole.course_id).where(CourseRole.user_id == kept.id)
    db.session.execute(db.delete(CourseRole).where(CourseRole.user_id == twin.id, CourseRole.course_id.in_(held)))
    db.session.execute(db.update(CourseRole).where(CourseRole.user_id == twin.id).values(user_id=kept.id))
    db.session.execute(db.update(Submission).where(Submission.user_id == twin.id).values(user_id=kept.id))
    # Copies of their essays name their writer for erasure (`Submission.source_user_id`).
    db.session.execute(db.update(Submission).where(Submission.source_user_id == twin.id).values(source_user_id=kept.id))
    db.session.execute(db.update(Grade).where(Grade.grader_id == twin.id).values(grader_id=kept.id))


def _retire(twins: list[Course], people: list[User], old_id: int) -> None:
    for twin in twins:
        db.session.execute(db.update(Course).where(Course.id == twin.id).values(
            platform_id=old_id, context_id=f"{RETIRED}{twin.id}", ags_lineitems_url=None, nrps_url=None))
    for twin in people:   # the kept row has the name and e-mail: none stays behind to be erased
        db.session.execute(db.update(User).where(User.id == twin.id).values(
            platform_id=old_id, sub=f"{RETIRED}{twin.id}", name="", email=""))


def _check_pair(source: Platform, target: Platform, confirmed: bool) -> None:
    if source.issuer != target.issuer:
        raise ValueError(f"platform {source.id} ({source.issuer}) and platform {target.id} ({target.issuer}) are "
                         "different LMSs: courses move only between two registrations of one issuer")
    if not confirmed and not same_school(source, target):
        raise ValueError(f"nothing moved: {source.issuer} is shared by many schools and platforms {source.id} and "
                         f"{target.id} have no deployment id in common, so they may be two schools. If both are "
                         f"the same school's (`gradeloop platform list`), run this again with --same-school.")


def _move(source: Platform, target: Platform) -> Moved:
    courses = _both(Course, "context_id", source.id, target.id)
    if courses:   # an assignment being added to a copy now is committed before the check reads
        db.session.execute(for_update(db.select(Course.id).where(Course.id.in_([t.id for _, t in courses]))))
    used = [twin.context_id for _, twin in courses
            if db.session.scalar(db.select(Assignment.id).where(Assignment.course_id == twin.id).limit(1))]
    if used:
        raise ValueError(f"nothing moved: course(s) {', '.join(used[:5])} (LMS context ids) got assignments through "
                         f"platform {target.id} as well as platform {source.id}. Gradeloop cannot merge two copies "
                         "of a course: delete the new copy's data (Settings -> Delete course data) if it is not "
                         "needed, then run this again.")
    moved = live_holdings(source.id)
    people = _both(User, "sub", source.id, target.id)
    for kept, twin in people:
        _merge_person(kept, twin)
    for kept, twin in courses:
        _merge_course(kept, twin)
    _retire([twin for _, twin in courses], [twin for _, twin in people], source.id)
    db.session.execute(db.update(Course).where(Course.platform_id == source.id, ~Course.context_id.startswith(RETIRED))
                       .values(platform_id=target.id))
    db.session.execute(db.update(User).where(User.platform_id == source.id, ~User.sub.startswith(RETIRED))
                       .values(platform_id=target.id))
    # Launches through the old client id would make new empty copies: the LMS deleted it anyway.
    db.session.execute(db.update(Platform).where(Platform.id == source.id, Platform.disabled_at.is_(None))
                       .values(disabled_at=datetime.now(timezone.utc)))
    return Moved(*moved, len(courses), len(people))


def move_courses(from_id: int, to_id: int, *, same_school_confirmed: bool = False) -> Moved:
    """Move every course and person of registration `from_id` to `to_id` (same school), then
    disable `from_id`. A course launched through both is kept from the old registration when the
    new copy has no assignment yet (the teacher opened it, found it empty); a person launched
    through both becomes one again; the new copies are retired (module docstring). Refused,
    nothing moved, when both copies of a course hold assignments: two copies of one course are not
    merged here. One transaction, begun with both platform rows locked (on SQLite the database's
    write lock), so a launch or hand-in meanwhile waits for it instead of landing in a half-moved
    state."""
    if from_id == to_id:
        raise ValueError("the two platform ids are the same")
    db.session.execute(for_update(db.select(Platform.id).where(Platform.id.in_([from_id, to_id]))
                                  .order_by(Platform.id)))
    try:
        source, target = get_platform(from_id), get_platform(to_id)
        db.session.refresh(source)
        db.session.refresh(target)
        _check_pair(source, target, same_school_confirmed)
        moved = _move(source, target)
        db.session.commit()
    except ValueError:
        db.session.rollback()
        raise
    except IntegrityError as exc:   # PostgreSQL: a launch made a copy of a course after the check
        db.session.rollback()
        raise ValueError("nothing moved: a launch through the new registration changed its courses during the move; "
                         "run this again") from exc
    from lti_app.lti import framing, registry

    registry.forget()   # this process's platform snapshot sees the old registration disabled at once
    framing.forget()
    return moved
