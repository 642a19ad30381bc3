"""Deep Linking 2.0 return endpoint: verifies the tool's LtiDeepLinkingResponse JWT and, like
Canvas/Moodle, turns each `ltiResourceLink` item into a course placement and (when it carries a
`lineItem`) a gradebook line item."""
from __future__ import annotations

from flask import Blueprint, current_app, render_template, request

from lti_app.sandbox.ags import finite_number
from lti_app.sandbox.state import PlatformState
from lti_app.sandbox.toolkeys import ToolJWTError, verify_tool_jwt

bp = Blueprint("sandbox_deep_linking", __name__)

LTI = "https://purl.imsglobal.org/spec/lti/claim/"
DL = "https://purl.imsglobal.org/spec/lti-dl/claim/"
ACCEPTED_TYPES = ("ltiResourceLink",)


class DeepLinkError(ValueError):
    pass


def _check_claims(st: PlatformState, claims: dict):
    """Message claims of the response; returns the deep linking request it answers."""
    if claims.get("iss") != st.tool.client_id:
        raise DeepLinkError(f"iss must be the client_id {st.tool.client_id!r}")
    if claims.get(LTI + "message_type") != "LtiDeepLinkingResponse":
        raise DeepLinkError("message_type must be LtiDeepLinkingResponse")
    if claims.get(LTI + "version") != "1.3.0":
        raise DeepLinkError("version must be 1.3.0")
    if claims.get(LTI + "deployment_id") != st.tool.deployment_id:
        raise DeepLinkError(f"deployment_id must be {st.tool.deployment_id!r}")
    nonce = claims.get("nonce")
    if not nonce:
        raise DeepLinkError("nonce is required")
    with st.lock:
        if nonce in st.used_dl_nonces:
            raise DeepLinkError("nonce was already used (replayed response)")
        spec = st.launches.get(claims.get(DL + "data") or "")
    if spec is None or spec.message_type != "LtiDeepLinkingRequest":
        raise DeepLinkError("data must echo the deep_linking_settings data of the request")
    items = claims.get(DL + "content_items", [])
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise DeepLinkError("content_items must be a list of objects")
    for item in items:
        if item.get("type") not in ACCEPTED_TYPES:
            raise DeepLinkError(f"content item type {item.get('type')!r} is not accepted (only ltiResourceLink)")
        line_item = item.get("lineItem")
        if line_item is not None:
            maximum = line_item.get("scoreMaximum") if isinstance(line_item, dict) else None
            if not finite_number(maximum) or maximum <= 0:
                raise DeepLinkError("lineItem.scoreMaximum must be a number > 0")
    with st.lock:
        st.used_dl_nonces.add(nonce)
    return spec, items


def store_items(st: PlatformState, course_id: str, items: list[dict]) -> list[dict]:
    """Create the placements (and line items) for accepted content items."""
    stored = []
    with st.lock:
        course = st.course(course_id)
        for item in items:
            link_id = f"dl-{st.next_id()}"
            line_item = item.get("lineItem")
            link = st.resource_link(course_id, link_id, title=item.get("title") or "Gradeloop activity",
                                    url=item.get("url") or "", custom=item.get("custom") or {})
            link.text = item.get("text") or ""
            if isinstance(line_item, dict):
                data = {"label": line_item.get("label") or link.title, "scoreMaximum": line_item["scoreMaximum"],
                        "resourceLinkId": link_id}
                for key in ("resourceId", "tag", "gradesReleased"):
                    if key in line_item:
                        data[key] = line_item[key]
                link.line_item_id = st.create_line_item(course_id, data, activity=True)["_num"]
            record = {**item, "resource_link_id": link_id,
                      "line_item_id": st.lineitem_url(course_id, link.line_item_id) if link.line_item_id else None}
            course.content_items.append(record)
            stored.append(record)
    return stored


@bp.post("/deep_links/return")
def deep_link_return():
    st: PlatformState = current_app.extensions["sandbox_state"]
    token = request.form.get("JWT", "")
    try:
        claims = verify_tool_jwt(st, token, audience=st.issuer)
        spec, items = _check_claims(st, claims)
    except (ToolJWTError, DeepLinkError) as exc:
        return render_template("sandbox/message.html", title="Deep linking response refused",
                               message=str(exc), status=400), 400
    stored = store_items(st, spec.course_id, items)
    return render_template("sandbox/deep_link_done.html", items=stored, course_id=spec.course_id,
                           msg=claims.get(DL + "msg"), errormsg=claims.get(DL + "errormsg"))
