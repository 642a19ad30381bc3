"""Names and Role Provisioning Services 2.0: the course's context membership container, paged
with `Link: rel="next"` (small default page so clients must follow it) and filtered by role."""
from __future__ import annotations

from flask import Blueprint, request

from lti_app.sandbox.services import NRPS_MEDIA_TYPE, ServiceError, json_response, page, require_token, state
from lti_app.sandbox.state import NRPS_SCOPE, role_uris

bp = Blueprint("sandbox_nrps", __name__)


@bp.get("/api/lti/courses/<course_id>/memberships")
def memberships(course_id: str):
    require_token(NRPS_SCOPE)
    st = state()
    course = st.courses.get(course_id)
    if course is None:
        raise ServiceError(404, f"no course {course_id!r}", "not_found")
    members = [m.as_nrps() for m in course.members.values()]
    role = request.args.get("role")
    if role:
        try:
            wanted = set(role_uris(role))
        except ValueError as exc:
            raise ServiceError(400, str(exc)) from exc
        members = [m for m in members if wanted & set(m["roles"])]
    chunk, headers = page(members, "members")
    body = {"id": st.memberships_url(course_id),
            "context": {"id": course.id, "label": course.label, "title": course.title},
            "members": chunk}
    return json_response(body, media_type=NRPS_MEDIA_TYPE, headers=headers)
