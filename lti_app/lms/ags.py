"""LTI Assignment and Grade Services 2.0: line items, scores and results, with the spec's media types."""
from __future__ import annotations

from datetime import datetime, timezone
from urllib.parse import urlsplit, urlunsplit

from lti_app.lms.client import LmsClient

SCOPE_LINEITEM = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"
SCOPE_LINEITEM_READONLY = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly"
SCOPE_RESULT = "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly"
SCOPE_SCORE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"

MT_LINEITEM = "application/vnd.ims.lis.v2.lineitem+json"
MT_LINEITEMS = "application/vnd.ims.lis.v2.lineitemcontainer+json"
MT_SCORE = "application/vnd.ims.lis.v1.score+json"
MT_RESULTS = "application/vnd.ims.lis.v2.resultcontainer+json"

ACTIVITY_PROGRESS = ("Initialized", "Started", "InProgress", "Submitted", "Completed")
GRADING_PROGRESS = ("FullyGraded", "Pending", "PendingManual", "Failed", "NotReady")

CANVAS_SUBMISSION_EXT = "https://canvas.instructure.com/lti/submission"


def service_url(lineitem_url: str, suffix: str) -> str:
    """`.../lineitems/5?type=x` -> `.../lineitems/5/scores?type=x` (Moodle puts a query on it)."""
    parts = urlsplit(lineitem_url)
    return urlunsplit(parts._replace(path=parts.path.rstrip("/") + "/" + suffix))


def iso(ts: datetime) -> str:
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=timezone.utc)
    return ts.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def read_scope(granted: list | None) -> str:
    """The scope to read line items with. Reading asks for `lineitem.readonly`: Moodle's "grade
    sync only" grants that, not `lineitem`, and its token endpoint refuses a request for scopes it
    does not grant (`invalid_scope`), as Canvas does for scopes its developer key does not enable.
    `granted` is the launch's AGS `scope` claim; where it lists `lineitem` alone, that is asked for."""
    if granted and SCOPE_LINEITEM_READONLY not in granted and SCOPE_LINEITEM in granted:
        return SCOPE_LINEITEM
    return SCOPE_LINEITEM_READONLY


def may_change_line_items(granted: list | None) -> bool:
    """Whether the launch's AGS scopes let the tool create or change line items (unknown: yes)."""
    return not granted or SCOPE_LINEITEM in granted


def find_line_items(client: LmsClient, lineitems_url: str, *, resource_link_id: str | None = None,
                    resource_id: str | None = None, tag: str | None = None,
                    read_scope: str = SCOPE_LINEITEM_READONLY) -> list[dict]:
    """Every line item matching the filters, across all pages. Filters are also checked here
    because some platforms ignore the query parameters. `read_scope`: see `read_scope`."""
    params = {k: v for k, v in (("resource_link_id", resource_link_id), ("resource_id", resource_id),
                                ("tag", tag)) if v}
    items: list[dict] = []
    for page in client.get_paged(lineitems_url, [read_scope], "the line item list",
                                 accept=MT_LINEITEMS, params=params or None):
        items.extend(page if isinstance(page, list) else [])

    def matches(item: dict) -> bool:
        return ((not resource_link_id or item.get("resourceLinkId") == resource_link_id)
                and (not resource_id or item.get("resourceId") == resource_id)
                and (not tag or item.get("tag") == tag))

    return [item for item in items if isinstance(item, dict) and matches(item)]


def create_line_item(client: LmsClient, lineitems_url: str, item: dict) -> dict:
    response = client.request("POST", lineitems_url, [SCOPE_LINEITEM], "creating the gradebook column",
                              accept=MT_LINEITEM, content_type=MT_LINEITEM, body=item)
    return response.json()


def update_line_item(client: LmsClient, lineitem_url: str, item: dict) -> dict:
    response = client.request("PUT", lineitem_url, [SCOPE_LINEITEM], "updating the gradebook column",
                              accept=MT_LINEITEM, content_type=MT_LINEITEM, body=item)
    return response.json() if response.content else item


def get_line_item(client: LmsClient, lineitem_url: str, read_scope: str = SCOPE_LINEITEM_READONLY) -> dict:
    return client.get_json(lineitem_url, [read_scope], "reading the gradebook column",
                           accept=MT_LINEITEM)


def post_score(client: LmsClient, lineitem_url: str, score: dict) -> None:
    client.request("POST", service_url(lineitem_url, "scores"), [SCOPE_SCORE], "the grade",
                   content_type=MT_SCORE, body=score)


def results(client: LmsClient, lineitem_url: str, user_id: str | None = None) -> list[dict]:
    out: list[dict] = []
    params = {"user_id": user_id} if user_id else None
    for page in client.get_paged(service_url(lineitem_url, "results"), [SCOPE_RESULT],
                                 "the gradebook results", accept=MT_RESULTS, params=params):
        out.extend(page if isinstance(page, list) else [])
    return out


def score_body(*, user_id: str, timestamp: datetime, activity_progress: str, grading_progress: str,
               score_given: float | None = None, score_maximum: float | None = None,
               comment: str | None = None, extensions: dict | None = None) -> dict:
    if activity_progress not in ACTIVITY_PROGRESS or grading_progress not in GRADING_PROGRESS:
        raise ValueError(f"bad progress values {activity_progress!r}/{grading_progress!r}")
    body: dict = {"userId": user_id, "timestamp": iso(timestamp),
                  "activityProgress": activity_progress, "gradingProgress": grading_progress}
    if score_given is not None:
        body["scoreGiven"] = score_given
        body["scoreMaximum"] = score_maximum
    if comment:
        body["comment"] = comment
    body.update(extensions or {})
    return body
