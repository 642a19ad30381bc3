"""Sandbox LMS pages (development only): the demo course, launching Gradeloop in an iframe as a
teacher or student, deep linking, the gradebook, and the platform-storage postMessage host."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template

from lti_app.sandbox.state import PlatformState

bp = Blueprint("sandbox_ui", __name__)


def _state() -> PlatformState:
    return current_app.extensions["sandbox_state"]


@bp.get("/")
def home():
    return render_template("sandbox/home.html", courses=list(_state().courses.values()))


@bp.get("/courses/<course_id>")
def course(course_id: str):
    c = _state().courses.get(course_id) or abort(404)
    return render_template("sandbox/course.html", course=c)
