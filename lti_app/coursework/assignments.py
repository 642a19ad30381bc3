"""Assignments: creating them, mapping a launched resource link to one, the landing page after a
launch (`coursework.assignment_home`), the first-launch set-up form and the course overview."""
from __future__ import annotations

import logging
import uuid

from flask import redirect, render_template, request
from sqlalchemy.exc import IntegrityError

from lti_app.auth import lurl, require_launch
from lti_app.coursework import access, bp, course_copy, lms_sync, notices
from lti_app.coursework.schemas import NewAssignmentSchema, load_posted_form
from lti_app.extensions import db
from lti_app.lms import ags, gradebook
from lti_app.lms.errors import LmsError
from lti_app.lti.deep_linking_state import deep_linking_request
from lti_app.models import Assignment, Course, ResourceLink, Submission

log = logging.getLogger(__name__)
CUSTOM_PARAM = course_copy.CUSTOM_PARAM   # re-exported: deep_linking.py names it from here


def new_resource_id() -> str:
    return "gl-" + uuid.uuid4().hex[:20]


def create_assignment(course_id: int, data: dict, link: ResourceLink | None = None) -> Assignment:
    assignment = Assignment(course_id=course_id, title=data["title"], prompt=data.get("prompt") or "",
                            score_min=data["score_min"], score_max=data["score_max"],
                            traits=data.get("traits") or [], resource_id=new_resource_id(),
                            resource_link_id=link.id if link else None,
                            lineitem_url=link.ags_lineitem_url if link else None)
    db.session.add(assignment)
    db.session.flush()
    return assignment


def assignment_for_link(link: ResourceLink) -> Assignment | None:
    """The assignment behind a launched resource link. Links made by Deep Linking carry our
    custom parameter; otherwise the line item (from the launch) names our resourceId."""
    assignment = db.session.scalar(db.select(Assignment).filter_by(resource_link_id=link.id))
    if assignment is not None:
        return assignment
    candidates = db.select(Assignment).filter_by(course_id=link.course_id, resource_link_id=None)
    resource_id = (link.custom or {}).get(CUSTOM_PARAM)
    if resource_id:
        assignment = db.session.scalar(candidates.filter_by(resource_id=str(resource_id)))
    if assignment is None and link.ags_lineitem_url:
        assignment = db.session.scalar(candidates.filter_by(lineitem_url=link.ags_lineitem_url))
        if assignment is None:
            assignment = _by_line_item_resource_id(link, candidates)
    if assignment is not None:
        assignment.resource_link_id = link.id
        assignment.lineitem_url = link.ags_lineitem_url or assignment.lineitem_url
        db.session.commit()
    return assignment


def _by_line_item_resource_id(link: ResourceLink, candidates) -> Assignment | None:
    course = db.session.get(Course, link.course_id)
    try:
        item = ags.get_line_item(gradebook.client_for_course(course), link.ags_lineitem_url)
    except LmsError as exc:
        log.info("line item of link %s unreadable: %s", link.id, exc)
        return None
    resource_id = item.get("resourceId") if isinstance(item, dict) else None
    return db.session.scalar(candidates.filter_by(resource_id=resource_id)) if resource_id else None


@bp.get("/")
@require_launch()
def assignment_home():
    """Where the LTI launch lands: the right page for this role and link."""
    ctx = access.launch()
    link = access.launched_link()
    if link is None:
        if ctx.can_grade and deep_linking_request(ctx.launch_id) is not None:
            return redirect(lurl("coursework.deep_link_select"))
        if ctx.can_grade:
            return redirect(lurl("coursework.course_home"))
        return render_template("coursework/not_ready.html"), 200
    assignment = assignment_for_link(link)
    if assignment is None:
        if ctx.can_grade:
            return redirect(lurl("coursework.setup"))
        return render_template("coursework/not_ready.html", deleted=data_deleted(link)), 200
    if ctx.can_grade:
        return redirect(lurl("coursework.submissions", assignment_id=assignment.id))
    return redirect(lurl("coursework.student", assignment_id=assignment.id))


@bp.route("/setup", methods=["GET", "POST"])
@require_launch(grader=True)
def setup():
    """First instructor launch of a link added by hand: create the assignment and its column."""
    link = access.launched_link()
    if link is None:
        return redirect(lurl("coursework.course_home"))
    existing = assignment_for_link(link)
    if existing is not None:
        return redirect(lurl("coursework.submissions", assignment_id=existing.id))
    source = course_copy.copy_source(link, (link.custom or {}).get(CUSTOM_PARAM), access.launch().user_id)
    data, errors = load_posted_form(NewAssignmentSchema())
    if data is not None:
        try:
            assignment = create_assignment(link.course_id, data, link)
        except IntegrityError:
            # Another tab's set-up of this link won the race (one assignment per link): use it.
            db.session.rollback()
            existing = assignment_for_link(link)
            if existing is None:
                raise
            return redirect(lurl("coursework.submissions", assignment_id=existing.id))
        done = "The assignment is ready."
        if source:
            course_copy.copy_settings(source.assignment, assignment)
            done += " Its settings are the original's; change them under Settings."
        if source and source.may_copy_essays and request.form.get("copy_essays") == "1":
            copied = course_copy.copy_graded_essays(source.assignment, assignment, access.launch().user_id)
            done += (f" Graded essays copied from \u201c{source.assignment.title}\u201d as training data: "
                     f"{copied}.")
        db.session.commit()
        problem = _ensure_column(assignment)
        return notices.redirect_with("coursework.submissions", [
            ("warning" if problem else "success", done + (f" {problem}" if problem else ""))],
            assignment_id=assignment.id)
    if errors:
        form = dict(request.form)
    elif source:
        form = course_copy.form_from(source.assignment, link.title)
    else:
        form = {"title": link.title, "score_min": "1", "score_max": "6"}
    return render_template("coursework/setup.html", form=form, errors=errors, source=source,
                           deleted=source is None and data_deleted(link)), 400 if errors else 200


def data_deleted(link: ResourceLink) -> bool:
    """The link names an assignment (our custom parameter: only the assignment picker sets it, and
    only after creating the assignment) that no longer exists: its data was deleted (course
    settings → Delete course data, or the `course delete` command). Without this check the link
    reads as one added by hand ("set up in Gradeloop" for the first time), which it never was."""
    resource_id = (link.custom or {}).get(CUSTOM_PARAM)
    return bool(resource_id) and db.session.scalar(
        db.select(Assignment.id).filter_by(resource_id=str(resource_id)[:100]).limit(1)) is None


def _ensure_column(assignment: Assignment) -> str | None:
    problem = lms_sync.sync_line_item_now(assignment.id)
    if problem is None:
        return None
    return f"The LMS gradebook column is not ready yet: {problem}"


@bp.get("/course")
@require_launch(grader=True)
def course_home():
    ctx = access.launch()
    assignments = db.session.scalars(db.select(Assignment).filter_by(course_id=ctx.course_id)
                                     .order_by(Assignment.created_at)).all()
    return render_template("coursework/course.html", course=access.course(), assignments=assignments,
                           handed_in=_essay_counts(ctx.course_id, students=True),
                           imported=_essay_counts(ctx.course_id, students=False))


def _essay_counts(course_id: int, *, students: bool) -> dict[int, int]:
    """assignment id -> essays its students handed in, or (students=False) essays without a
    student: imported from a file or brought by a course copy, which no one in the class wrote."""
    who = Submission.user_id.is_not(None) if students else Submission.user_id.is_(None)
    return dict(db.session.execute(
        db.select(Submission.assignment_id, db.func.count(Submission.id))
        .join(Assignment, Assignment.id == Submission.assignment_id)
        .where(Assignment.course_id == course_id, who).group_by(Submission.assignment_id)).all())
