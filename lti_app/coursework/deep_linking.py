"""Deep Linking: the teacher creates an essay assignment from the LMS's "add content" flow and
the tool answers with a signed `LtiDeepLinkingResponse` carrying one `ltiResourceLink` with a
line item, auto-posted back to the platform's `deep_link_return_url`. One launch answers once: a
second post of the form is told the assignment was added."""
from __future__ import annotations

import time
import uuid

import jwt
from flask import abort, render_template, request
from sqlalchemy import update
from werkzeug.routing import BuildError

from lti_app.auth import require_launch
from lti_app.coursework import access, bp
from lti_app.coursework.assignments import CUSTOM_PARAM, create_assignment
from lti_app.coursework.schemas import NewAssignmentSchema, load_posted_form
from lti_app.extensions import db
from lti_app.lms.gradebook import LINE_ITEM_TAG
from lti_app.lti.claims import is_string_list
from lti_app.lti.deep_linking_state import deep_linking_request
from lti_app.models import Assignment, DeepLinkingRequest, Platform

DL = "https://purl.imsglobal.org/spec/lti-dl/claim/"
LTI = "https://purl.imsglobal.org/spec/lti/claim/"
RESOURCE_LINK_TYPE = "ltiResourceLink"
RESPONSE_LIFETIME_S = 600


def _request_for_launch() -> DeepLinkingRequest:
    ctx = access.launch()
    row = deep_linking_request(ctx.launch_id)
    if row is None or row.platform_id != ctx.platform_id:
        abort(400, description="This page needs a Deep Linking launch: use your LMS's "
                               "\"add external tool\" (or \"add content\") button to create an assignment.")
    accept = row.settings.get("accept_types") or [RESOURCE_LINK_TYPE]
    if not is_string_list(accept):
        # Launches refuse it (lti.validation); a request stored before they did may still hold it.
        abort(400, description="The LMS's Deep Linking request lists the content it accepts in a form "
                               "Gradeloop cannot read (accept_types is not a list of types). Use your LMS's "
                               "\"add external tool\" button again.")
    if RESOURCE_LINK_TYPE not in accept:
        abort(400, description="This place in the LMS does not accept assignments (LTI resource links); "
                               "add Gradeloop as an activity or assignment instead.")
    if not row.settings.get("deep_link_return_url"):
        abort(400, description="The LMS did not say where to send the new assignment (deep_link_return_url).")
    return row


def _tool_launch_url() -> str | None:
    try:
        from lti_app.lti.urls import launch_url

        return launch_url()
    except (ImportError, BuildError):
        return None   # the platform then uses the tool's registered launch URL


def content_item(assignment: Assignment) -> dict:
    item = {"type": RESOURCE_LINK_TYPE, "title": assignment.title,
            "lineItem": {"scoreMaximum": assignment.score_max, "label": assignment.title[:250],
                         "resourceId": assignment.resource_id, "tag": LINE_ITEM_TAG},
            "custom": {CUSTOM_PARAM: assignment.resource_id}}
    if assignment.prompt:
        item["text"] = assignment.prompt[:1000]
    url = _tool_launch_url()
    if url:
        item["url"] = url
    return item


def response_jwt(dl_request: DeepLinkingRequest, items: list[dict]) -> str:
    """The signed LtiDeepLinkingResponse (LTI Deep Linking 2.0, section 4.2)."""
    from lti_app.lti.keys import current_kid, tool_private_key

    platform = db.session.get(Platform, dl_request.platform_id)
    now = int(time.time())
    claims = {"iss": platform.client_id, "aud": platform.issuer, "iat": now, "exp": now + RESPONSE_LIFETIME_S,
              "nonce": uuid.uuid4().hex, LTI + "deployment_id": dl_request.deployment_id,
              LTI + "message_type": "LtiDeepLinkingResponse", LTI + "version": "1.3.0",
              DL + "content_items": items,
              DL + "msg": f"Gradeloop added {len(items)} essay assignment{'s' if len(items) != 1 else ''}."}
    if dl_request.settings.get("data") is not None:
        claims[DL + "data"] = dl_request.settings["data"]
    return jwt.encode(claims, tool_private_key(), algorithm="RS256", headers={"kid": current_kid()})


@bp.route("/deep-link", methods=["GET", "POST"])
@require_launch(grader=True)
def deep_link_select():
    dl_request = _request_for_launch()
    if dl_request.answered_assignment_id is not None:
        return _already_added(dl_request)
    data, errors = load_posted_form(NewAssignmentSchema())
    if data is not None:
        assignment = create_assignment(access.launch().course_id, data)
        # Answered once: a second post of this form (back button, a second tab, a double click
        # that got through) must not add a twin. The conditional update is the claim: of two
        # concurrent posts one changes the row, the other changes none and creates nothing.
        claimed = db.session.execute(
            update(DeepLinkingRequest).where(DeepLinkingRequest.launch_id == dl_request.launch_id,
                                             DeepLinkingRequest.answered_assignment_id.is_(None))
            .values(answered_assignment_id=assignment.id)).rowcount
        if not claimed:
            db.session.rollback()
            return _already_added(_request_for_launch())
        db.session.commit()
        return _answer(dl_request, assignment)
    form = dict(request.form) if errors else {"title": _suggested_title(dl_request), "score_min": "1",
                                              "score_max": "6"}
    return render_template("coursework/deep_link.html", form=form, errors=errors), 400 if errors else 200


def _suggested_title(dl_request: DeepLinkingRequest) -> str:
    """The LMS's suggested title, unless it names the tool ("Gradeloop"): some LMSs suggest the
    tool's own name, which an untouched form then gave the assignment."""
    title = (dl_request.settings.get("title") or "").strip()
    return "" if "gradeloop" in title.casefold() else title


def _answer(dl_request: DeepLinkingRequest, assignment: Assignment, again: bool = False):
    """The page that posts the signed response to the LMS: at once, or (`again`) on a button."""
    token = response_jwt(dl_request, [content_item(assignment)])
    return render_template("coursework/deep_link_post.html", assignment=assignment, jwt=token,
                           return_url=dl_request.settings["deep_link_return_url"], again=again)


def _already_added(dl_request: DeepLinkingRequest):
    """This launch was answered: say so (409 to a post), and offer to send the same assignment
    once more for when the LMS never got it (the first page closed before its post went out)."""
    assignment = db.session.get(Assignment, dl_request.answered_assignment_id)
    if assignment is None or assignment.course_id != access.launch().course_id:
        abort(410, description="The assignment this window added has been deleted since. To add another, "
                               "use your LMS's \"add external tool\" (or \"add content\") button again.")
    return _answer(dl_request, assignment, again=True), 409 if request.method == "POST" else 200
