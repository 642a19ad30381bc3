"""Role landing pages after a launch: instructor, learner, and the deep-linking picker."""
from __future__ import annotations

from flask import current_app, render_template

from lti_app.auth import current_launch, require_launch
from lti_app.extensions import db
from lti_app.lti.deep_linking_state import deep_linking_settings
from lti_app.models import Course, ResourceLink, Role, User


def _context():
    ctx = current_launch()
    return {
        "ctx": ctx,
        "course": db.session.get(Course, ctx.course_id),
        "user": db.session.get(User, ctx.user_id),
        "link": db.session.get(ResourceLink, ctx.resource_link_id) if ctx.resource_link_id else None,
    }


def has_endpoint(name: str) -> bool:
    """Features built by others (assignments) are linked only once they exist."""
    return name in current_app.view_functions


@require_launch(grader=True)
def instructor_home():
    return render_template("lti/instructor.html", has_endpoint=has_endpoint, **_context())


@require_launch(Role.LEARNER)
def learner_home():
    return render_template("lti/learner.html", has_endpoint=has_endpoint, **_context())


@require_launch(grader=True)
def deep_link_home():
    ctx = current_launch()
    return render_template("lti/deep_link.html", settings=deep_linking_settings(ctx.launch_id),
                           has_endpoint=has_endpoint, **_context())
