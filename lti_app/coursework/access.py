"""Who may see what: every object a view loads is checked against the launch's course and user.

Objects of another course answer 404 (not 403) so ids of other courses reveal nothing.
"""
from __future__ import annotations

from flask import abort

from lti_app.auth import current_launch
from lti_app.extensions import db
from lti_app.models import Assignment, Course, ResourceLink, Role, Submission

NOT_FOUND = "This assignment is not part of the course you opened Gradeloop from."
OTHER_LINK = ("This assignment is not the one you opened Gradeloop from. Open it from its own link in your "
              "course.")


def launch():
    ctx = current_launch()
    if ctx is None:   # views are decorated with require_launch; this is a second lock
        abort(401)
    return ctx


def course():
    return db.session.get(Course, launch().course_id)


def assignment_in_course(assignment_id: int) -> Assignment:
    assignment = db.session.get(Assignment, assignment_id)
    if assignment is None or assignment.course_id != launch().course_id:
        abort(404, description=NOT_FOUND)
    return assignment


def assignment_for_student(assignment_id: int) -> Assignment:
    """An assignment a student may open: only the one behind the link they launched. The LMS hides,
    schedules and restricts each link (release dates, groups, deleted activities); a student who
    edits the id in the URL must not reach another assignment of the course around those rules."""
    assignment = assignment_in_course(assignment_id)
    ctx = launch()
    if not ctx.can_grade and (ctx.resource_link_id is None or assignment.resource_link_id != ctx.resource_link_id):
        abort(404, description=OTHER_LINK)
    return assignment


def submission_in_assignment(assignment: Assignment, submission_id: int) -> Submission:
    submission = db.session.get(Submission, submission_id)
    if submission is None or submission.assignment_id != assignment.id:
        abort(404, description="This essay is not part of this assignment.")
    ctx = launch()
    if not ctx.can_grade and submission.user_id != ctx.user_id:
        abort(404, description="This essay is not part of this assignment.")
    return submission


def launched_link() -> ResourceLink | None:
    ctx = launch()
    if ctx.resource_link_id is None:
        return None
    link = db.session.get(ResourceLink, ctx.resource_link_id)
    return link if link is not None and link.course_id == ctx.course_id else None


def is_course_admin() -> bool:
    return launch().role_enum in (Role.INSTRUCTOR, Role.ADMINISTRATOR)


def require_course_admin() -> None:
    """Destructive course-wide actions: instructors and administrators, not TAs."""
    if not is_course_admin():
        abort(403, description="Only the course's instructors can do this.")
