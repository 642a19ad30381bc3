"""An LMS registered with Gradeloop again: its courses carried over to the new registration.

An administrator who deletes the tool in Moodle and adds it again, or makes a new developer key in
Canvas, gives Gradeloop a second registration of the same issuer with a new client id. Courses and
people are stored per registration (`Course.platform_id`, `User.platform_id`), so every launch
through the new one found an empty course: the assignments, essays, grades and course models
stayed with the old one, and nothing said so. The registration page now names the older
registrations that hold courses (`earlier_with_courses`), and `gradeloop platform move-courses OLD
NEW` moves them (`move_courses`): the same LMS, the same course and user ids, so only the
registration they belong to changes.
"""
from __future__ import annotations

from lti_app.extensions import db
from lti_app.models import Assignment, Course, CourseRole, Grade, Platform, ResourceLink, Submission, User
from lti_app.platforms import get_platform, platform_holdings


def earlier_with_courses(platform: Platform) -> list[tuple[Platform, int]]:
    """Other registrations of `platform`'s issuer that hold courses, with how many."""
    others = db.session.scalars(db.select(Platform).where(Platform.issuer == platform.issuer,
                                                          Platform.id != platform.id).order_by(Platform.id))
    return [(other, courses) for other in others if (courses := platform_holdings(other.id)[0])]


def _both(model, key, from_id: int, to_id: int) -> list[tuple]:
    """(old row, new row) of `model` for each `key` value both registrations have (the same
    course, or person, launched through each)."""
    theirs = {getattr(row, key): row for row in db.session.scalars(db.select(model).filter_by(platform_id=to_id))}
    return [(row, theirs[getattr(row, key)]) for row in db.session.scalars(db.select(model).filter_by(platform_id=from_id))
            if getattr(row, key) in theirs]


def _drop_empty_twin(twin: Course) -> None:
    for model in (CourseRole, ResourceLink):
        db.session.execute(db.delete(model).where(model.course_id == twin.id))
    db.session.execute(db.delete(Course).where(Course.id == twin.id))


def _merge_person(kept: User, twin: User) -> None:
    """The person launched through both: the new registration's copy becomes the old one."""
    held = db.select(CourseRole.course_id).where(CourseRole.user_id == kept.id)
    db.session.execute(db.delete(CourseRole).where(CourseRole.user_id == twin.id, CourseRole.course_id.in_(held)))
    db.session.execute(db.update(CourseRole).where(CourseRole.user_id == twin.id).values(user_id=kept.id))
    db.session.execute(db.update(Submission).where(Submission.user_id == twin.id).values(user_id=kept.id))
    db.session.execute(db.update(Grade).where(Grade.grader_id == twin.id).values(grader_id=kept.id))
    db.session.execute(db.delete(User).where(User.id == twin.id))


def move_courses(from_id: int, to_id: int) -> tuple[int, int]:
    """Move every course and person of registration `from_id` to `to_id` (same issuer); returns
    (courses, people) moved. A course launched through both is kept from the old registration
    when the new copy has no assignment yet (the teacher opened it, found it empty); a person
    launched through both becomes one again. Refused, nothing moved, when both copies of a course
    hold assignments: two copies of one course are not merged here."""
    source, target = get_platform(from_id), get_platform(to_id)
    if source.id == target.id:
        raise ValueError("the two platform ids are the same")
    if source.issuer != target.issuer:
        raise ValueError(f"platform {source.id} ({source.issuer}) and platform {target.id} ({target.issuer}) are "
                         "different LMSs: courses move only between two registrations of one issuer")
    courses = _both(Course, "context_id", from_id, to_id)
    used = [twin.context_id for _, twin in courses
            if db.session.scalar(db.select(Assignment.id).where(Assignment.course_id == twin.id).limit(1))]
    if used:
        raise ValueError(f"nothing moved: course(s) {', '.join(used[:5])} (LMS context ids) got assignments through "
                         f"platform {to_id} as well as platform {from_id}. Gradeloop cannot merge two copies of a "
                         f"course: delete the new copy's data (Settings -> Delete course data) if it is not needed, "
                         "then run this again.")
    moved = platform_holdings(from_id)
    for _, twin in courses:
        _drop_empty_twin(twin)
    for kept, twin in _both(User, "sub", from_id, to_id):
        _merge_person(kept, twin)
    db.session.execute(db.update(Course).where(Course.platform_id == from_id).values(platform_id=to_id))
    db.session.execute(db.update(User).where(User.platform_id == from_id).values(platform_id=to_id))
    db.session.commit()
    return moved
