"""Sandbox LMS pages (development only): the demo course with its people and Gradeloop
placements, launching Gradeloop in an iframe as a teacher or student (or in a new window),
adding content by deep linking, and a gradebook of what the tool posted back.

The frame page also answers the tool's LTI client-side postMessages (`lti.capabilities`,
`lti.put_data`, `lti.get_data`: platform storage), so launches work when the browser blocks the
tool's third-party cookies.
"""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, render_template, request, url_for

from lti_app.sandbox.oidc import DEEP_LINKING, RESOURCE_LINK, initiation_params, start_launch
from lti_app.sandbox.state import INSTRUCTOR, LEARNER, TEACHING_ASSISTANT, Course, PlatformState

bp = Blueprint("sandbox_ui", __name__)

FRAME_NAME = "gradeloop-frame"
DEMO_COURSE = "sandbox-course"


def seed_demo(state: PlatformState) -> Course:
    """The demo course `gradeloop run` opens on: one teacher, four students, one placement."""
    course = state.course(DEMO_COURSE, title="Sandbox Demo Course", label="DEMO-101")
    state.add_member(course.id, "teacher-1", "Instructor", name="Ada Lovelace")
    for user_id, name in (("student-1", "Grace Hopper"), ("student-2", "Alan Turing"),
                          ("student-3", "Katherine Johnson"), ("student-4", "Edsger Dijkstra")):
        state.add_member(course.id, user_id, "Learner", name=name)
    state.resource_link(course.id, "essay-feedback", title="Essay feedback (Gradeloop)")
    return course


def _state() -> PlatformState:
    return current_app.extensions["sandbox_state"]


def _course(course_id: str) -> Course:
    course = _state().courses.get(course_id)
    if course is None:
        abort(404, description=f"No course {course_id!r} in the sandbox.")
    return course


def role_label(roles: list[str]) -> str:
    if INSTRUCTOR in roles:
        return "Teacher"
    if TEACHING_ASSISTANT in roles:
        return "Teaching assistant"
    if LEARNER in roles:
        return "Student"
    return ", ".join(r.rsplit("#", 1)[-1] for r in roles)


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


@bp.app_context_processor
def _helpers():
    return {"role_label": role_label, "is_teacher": lambda m: LEARNER not in m.roles}


@bp.get("/")
def home():
    st = _state()
    return render_template("sandbox/home.html", courses=list(st.courses.values()), tool=st.tool)


@bp.get("/courses/<course_id>")
def course(course_id: str):
    return render_template("sandbox/course.html", course=_course(course_id), tool=_state().tool)


def _launch_spec(course: Course, message_type: str):
    st = _state()
    user_id = request.args.get("user_id", "")
    member = course.members.get(user_id)
    if member is None:
        abort(400, description="Pick a person of this course to launch as.")
    link_id = request.args.get("link") if message_type == RESOURCE_LINK else None
    if message_type == RESOURCE_LINK and link_id not in course.resource_links:
        abort(400, description="Pick one of the course's Gradeloop placements.")
    if message_type == DEEP_LINKING and LEARNER in member.roles:
        abort(403, description="Only teachers can add content to the course.")
    in_frame = request.args.get("window") != "1"
    # `storage=always`: ask for platform storage in a new window too, as Canvas does.
    storage = in_frame or request.args.get("storage") == "always"
    spec = start_launch(st, user_id=user_id, course_id=course.id, resource_link_id=link_id,
                        message_type=message_type, storage_target="_parent" if storage else None,
                        return_url=url_for("sandbox_ui.course", course_id=course.id, _external=True))
    return spec, member, in_frame


def _launch_page(course_id: str, message_type: str):
    st = _state()
    course = _course(course_id)
    spec, member, in_frame = _launch_spec(course, message_type)
    params = initiation_params(st, spec)
    if not in_frame:
        # "Open in new window": the tool is top-level, so its own cookies work.
        return render_template("sandbox/autopost.html", action=st.tool.login_url, fields=params)
    link = course.resource_links.get(spec.resource_link_id or "")
    window_url = url_for(request.endpoint, course_id=course.id, **{**request.args.to_dict(), "window": "1"})
    return render_template("sandbox/launch.html", course=course, member=member, link=link, params=params,
                           login_url=st.tool.login_url, frame_name=FRAME_NAME, window_url=window_url,
                           tool_origin=_origin(st.tool.login_url), deep_linking=message_type == DEEP_LINKING)


@bp.get("/courses/<course_id>/launch")
def launch(course_id: str):
    return _launch_page(course_id, RESOURCE_LINK)


@bp.get("/courses/<course_id>/deep-link")
def deep_link(course_id: str):
    return _launch_page(course_id, DEEP_LINKING)


@bp.post("/admin/rotate-keys")
def rotate_keys():
    """LMS admin: switch the platform's signing key (the old one stays published for an hour)."""
    keys = current_app.extensions["sandbox_keys"]
    kid = keys.rotate()
    return render_template("sandbox/message.html", title="Signing key rotated", status=200, back="/",
                           message=f"Launches are now signed with key {kid}; the previous key stays "
                                   "in the key set for an hour.")


@bp.get("/admin/register")
def dynamic_registration():
    """LMS admin: register a tool through its LTI Dynamic Registration URL, in a frame."""
    from urllib.parse import urlencode

    from lti_app.sandbox.registration import issue_registration_token, openid_configuration_url

    st = _state()
    default = _origin(st.tool.login_url) + "/lti/register"
    tool_url = request.args.get("url", "").strip()
    frame_url = None
    if tool_url:
        if urlsplit(tool_url).scheme not in ("http", "https"):
            abort(400, description="The registration URL must be an http(s) URL.")
        query = urlencode({"openid_configuration": openid_configuration_url(st),
                           "registration_token": issue_registration_token(st)})
        frame_url = tool_url + ("&" if "?" in tool_url else "?") + query
    return render_template("sandbox/register.html", default=default, frame_url=frame_url,
                           tool_origin=_origin(tool_url) if tool_url else "", registrations=st.registrations)


@bp.get("/courses/<course_id>/gradebook")
def gradebook(course_id: str):
    st = _state()
    course = _course(course_id)
    with st.lock:
        items = []
        for item in st.course_line_items(course.id):
            num = st.resolve_line_item(item["id"])
            items.append((item, {uid: rec for (n, uid), rec in st.results.items() if n == num}))
    learners = [m for m in course.members.values() if LEARNER in m.roles]
    return render_template("sandbox/gradebook.html", course=course, items=items, learners=learners)
