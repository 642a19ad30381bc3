"""Assignment and Grade Services 2.0 on the sandbox platform: line items container and items,
scores (validated like Moodle 4.5: only gradeable learners, timestamps never go backwards; the
rules Canvas or Moodle add when the sandbox plays one: `lms_rules`) and results, each with its
IMS media type and bearer-token scopes."""
from __future__ import annotations

import math
from datetime import datetime

from flask import Blueprint, request
from lti1p3platform.score import ActivityProgress, GradeProgress

from lti_app.sandbox.lms_rules import CANVAS_SUBMISSION, take_score
from lti_app.sandbox.services import ServiceError, json_response, page, require_json, require_token, state
from lti_app.sandbox.state import PlatformState, is_learner

bp = Blueprint("sandbox_ags", __name__, url_prefix="/api/lti/courses/<course_id>/lineitems")

SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/"
LINEITEM, LINEITEM_RO = SCOPE + "lineitem", SCOPE + "lineitem.readonly"
RESULT_RO, SCORE = SCOPE + "result.readonly", SCOPE + "score"
MT_LINEITEM = "application/vnd.ims.lis.v2.lineitem+json"
MT_CONTAINER = "application/vnd.ims.lis.v2.lineitemcontainer+json"
MT_SCORE = "application/vnd.ims.lis.v1.score+json"
MT_RESULTS = "application/vnd.ims.lis.v2.resultcontainer+json"
ACTIVITY = {p.value for p in ActivityProgress}
GRADING = {p.value for p in GradeProgress}


def _course(course_id: str):
    course = state().courses.get(course_id)
    if course is None:
        raise ServiceError(404, f"no course {course_id!r}", "not_found")
    return course


def _item(course_id: str, item_id: int) -> dict:
    _course(course_id)
    item = state().line_items.get(item_id)
    if item is None or item["course_id"] != course_id:
        raise ServiceError(404, f"no line item {item_id} in course {course_id!r}", "not_found")
    return item


def finite_number(value) -> bool:
    """A finite JSON number (Python's json accepts NaN and Infinity; AGS does not)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _validate_line_item(course_id: str, data: dict) -> dict:
    label = data.get("label")
    if not isinstance(label, str) or not label.strip():
        raise ServiceError(400, "label is required (a non-empty string)")
    if not finite_number(data.get("scoreMaximum")) or data["scoreMaximum"] <= 0:
        raise ServiceError(400, "scoreMaximum is required and must be a number > 0")
    for key in ("resourceId", "tag", "resourceLinkId", "startDateTime", "endDateTime"):
        if key in data and not isinstance(data[key], str):
            raise ServiceError(400, f"{key} must be a string")
    link = data.get("resourceLinkId")
    if link and link not in state().courses[course_id].resource_links:
        raise ServiceError(400, f"resourceLinkId {link!r} is not a resource link of this course")
    clean = {k: v for k, v in data.items() if k != "id"}
    return clean


@bp.get("")
def list_line_items(course_id: str):
    require_token(LINEITEM, LINEITEM_RO)
    _course(course_id)
    items = state().course_line_items(course_id)
    for param, key in (("resource_link_id", "resourceLinkId"), ("resource_id", "resourceId"), ("tag", "tag")):
        if request.args.get(param):
            items = [i for i in items if i.get(key) == request.args[param]]
    chunk, headers = page(items, "lineitems")
    return json_response(chunk, media_type=MT_CONTAINER, headers=headers)


@bp.post("")
def create_line_item(course_id: str):
    require_token(LINEITEM)
    _course(course_id)
    data = _validate_line_item(course_id, require_json(MT_LINEITEM))
    st = state()
    with st.lock:
        num = st.create_line_item(course_id, data)["_num"]
        link_id = data.get("resourceLinkId")
        link = st.courses[course_id].resource_links.get(link_id or "")
        if link is not None and link.line_item_id is None:
            link.line_item_id = num
        body = st.line_item_json(num)
    return json_response(body, status=201, media_type=MT_LINEITEM, headers={"Location": body["id"]})


@bp.get("/<int:item_id>")
def get_line_item(course_id: str, item_id: int):
    require_token(LINEITEM, LINEITEM_RO)
    _item(course_id, item_id)
    return json_response(state().line_item_json(item_id), media_type=MT_LINEITEM)


@bp.put("/<int:item_id>")
def update_line_item(course_id: str, item_id: int):
    require_token(LINEITEM)
    item = _item(course_id, item_id)
    body = require_json(MT_LINEITEM)
    st = state()
    if body.get("id") not in (None, st.lineitem_url(course_id, item_id)):
        raise ServiceError(400, "id in the body does not match the line item URL")
    data = _validate_line_item(course_id, body)
    with st.lock:
        item["data"] = data
        return json_response(st.line_item_json(item_id), media_type=MT_LINEITEM)


@bp.delete("/<int:item_id>")
def delete_line_item(course_id: str, item_id: int):
    require_token(LINEITEM)
    _item(course_id, item_id)
    st = state()
    with st.lock:
        del st.line_items[item_id]
        for key in [k for k in st.results if k[0] == item_id]:
            del st.results[key]
        for link in st.courses[course_id].resource_links.values():
            if link.line_item_id == item_id:
                link.line_item_id = None
    return "", 204


def _timestamp(value) -> datetime:
    if not isinstance(value, str):
        raise ServiceError(400, "timestamp is required (ISO 8601 with a time zone)")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ServiceError(400, f"timestamp {value!r} is not ISO 8601") from None
    if parsed.tzinfo is None:
        raise ServiceError(400, f"timestamp {value!r} needs a time zone offset")
    return parsed


def _validate_score(course_id: str, data: dict) -> datetime:
    user_id = data.get("userId")
    if not isinstance(user_id, str) or not user_id:
        raise ServiceError(400, "userId is required")
    member = state().courses[course_id].members.get(user_id)
    if member is None:
        raise ServiceError(400, f"Incorrect score received: user {user_id!r} is not enrolled in this course")
    if member.status != "Active":
        raise ServiceError(400, f"Incorrect score received: user {user_id!r} is no longer active in this course")
    if not is_learner(member.roles):
        raise ServiceError(400, f"Incorrect score received: user {user_id!r} is not a gradeable learner "
                                f"in this course (roles: {', '.join(r.rsplit('#', 1)[-1] for r in member.roles)})")
    if data.get("activityProgress") not in ACTIVITY:
        raise ServiceError(400, f"activityProgress must be one of {sorted(ACTIVITY)}")
    if data.get("gradingProgress") not in GRADING:
        raise ServiceError(400, f"gradingProgress must be one of {sorted(GRADING)}")
    if "scoreGiven" in data and data["scoreGiven"] is not None:
        given, maximum = data["scoreGiven"], data.get("scoreMaximum")
        if not finite_number(given) or given < 0:
            raise ServiceError(400, "scoreGiven must be a number >= 0")
        if not finite_number(maximum) or maximum <= 0:
            raise ServiceError(400, "scoreMaximum (> 0) is required with scoreGiven")
        if given > maximum:
            raise ServiceError(400, f"scoreGiven {given} is more than scoreMaximum {maximum}")
    if "comment" in data and data["comment"] is not None and not isinstance(data["comment"], str):
        raise ServiceError(400, "comment must be a string")
    return _timestamp(data.get("timestamp"))


@bp.post("/<int:item_id>/scores")
def post_score(course_id: str, item_id: int):
    require_token(SCORE)
    _item(course_id, item_id)
    data = require_json(MT_SCORE)
    when = _validate_score(course_id, data)
    st = state()
    with st.lock:
        kept = take_score(st, item_id, data, when)
        record = {k: v for k, v in data.items()}
        st.score_log[item_id].append(record)
        st.results[(item_id, data["userId"])] = {**record, "_when": kept}
    return json_response({"resultUrl": f"{st.lineitem_url(course_id, item_id)}/results?user_id={data['userId']}"})


def result_json(st: PlatformState, course_id: str, item_id: int, record: dict) -> dict:
    """A Result as AGS shows it: the score scaled to the line item's maximum once FullyGraded."""
    item_max = st.line_items[item_id]["data"]["scoreMaximum"]
    url = st.lineitem_url(course_id, item_id)
    result = {"id": f"{url}/results/{record['userId']}", "scoreOf": url, "userId": record["userId"],
              "resultMaximum": item_max}
    if record.get("scoreGiven") is not None and record.get("gradingProgress") == "FullyGraded":
        result["resultScore"] = round(record["scoreGiven"] / record["scoreMaximum"] * item_max, 6)
    if record.get("comment"):
        result["comment"] = record["comment"]
    if st.product_family == "canvas" and isinstance(record.get(CANVAS_SUBMISSION), dict):
        result[CANVAS_SUBMISSION] = record[CANVAS_SUBMISSION]   # the last score's (`Lti::ResultsSerializer`)
    if st.product_family == "moodle" and "resultScore" in result:   # Moodle's grade time, whole seconds
        result["timestamp"] = record["_when"].replace(microsecond=0).isoformat()
    return result


def item_results(st: PlatformState, item_id: int, user_id: str | None = None) -> list[dict]:
    """Results of one line item (optionally one user's), as the results endpoint lists them."""
    with st.lock:
        course_id = st.line_items[item_id]["course_id"]
        records = [r for (num, uid), r in sorted(st.results.items())
                   if num == item_id and user_id in (None, uid)]
        return [result_json(st, course_id, item_id, r) for r in records]


@bp.get("/<int:item_id>/results")
def list_results(course_id: str, item_id: int):
    require_token(RESULT_RO)
    _item(course_id, item_id)
    chunk, headers = page(item_results(state(), item_id, request.args.get("user_id")), "results")
    return json_response(chunk, media_type=MT_RESULTS, headers=headers)
