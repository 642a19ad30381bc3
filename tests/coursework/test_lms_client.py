"""The AGS client against the peer over HTTP: line items found by resource link, resourceId and
tag across pages, created and updated with the spec's media types; results read back."""
from datetime import datetime, timezone

from lti_app.extensions import db
from lti_app.lms import ags
from lti_app.lms.client import LmsClient
from lti_app.models import Platform
from tests.coursework.flows import COURSE


def test_line_items_find_create_update_and_results(peer, tool_server):
    peer.add_member(COURSE, "learner-x", "Learner")
    lineitems = peer.state.lineitems_url(COURSE)
    with tool_server.app.app_context():
        client = LmsClient.for_platform(db.session.scalar(db.select(Platform)))
        made = [ags.create_line_item(client, lineitems, {"label": f"Essay {n}", "scoreMaximum": 6,
                                                         "resourceId": f"res-{n}", "tag": "gradeloop-essay"})
                for n in range(5)]                                   # page size 3: two pages
        assert all(item["id"].startswith(peer.url) for item in made)
        assert [i["label"] for i in ags.find_line_items(client, lineitems, tag="gradeloop-essay")] == \
            [f"Essay {n}" for n in range(5)]
        [found] = ags.find_line_items(client, lineitems, resource_id="res-4")
        assert found["id"] == made[4]["id"]
        assert ags.find_line_items(client, lineitems, resource_link_id="nothing") == []
        updated = ags.update_line_item(client, found["id"], {**found, "label": "Essay four", "scoreMaximum": 10})
        assert updated["label"] == "Essay four"
        assert ags.get_line_item(client, found["id"])["scoreMaximum"] == 10
        ags.post_score(client, found["id"], ags.score_body(
            user_id="learner-x", timestamp=datetime.now(timezone.utc), activity_progress="Completed",
            grading_progress="FullyGraded", score_given=7, score_maximum=10, comment="ok"))
        [result] = ags.results(client, found["id"], "learner-x")
    assert result["resultScore"] == 7 and result["comment"] == "ok"
    writes = [c for c in peer.service_calls("ags") if c[1] in ("POST", "PUT")]
    assert len(writes) == 7    # 5 creates, 1 update, 1 score: each accepted with its media type


def test_service_url_keeps_the_query():
    assert ags.service_url("https://moodle.example/mod/lti/services.php/2/lineitems/7/lineitem?type_id=3",
                           "scores") == "https://moodle.example/mod/lti/services.php/2/lineitems/7/lineitem/scores?type_id=3"


def test_redirect_is_not_followed_with_the_token(peer, tool_server):
    import pytest

    from lti_app.lms.errors import LmsPermanentError

    # The tool's own host is not the peer's: only a listed origin may be loopback (service_urls).
    tool_server.app.config["GRADELOOP_REGISTRATION_ORIGINS"] = [tool_server.url]
    with tool_server.app.app_context():
        client = LmsClient.for_platform(db.session.scalar(db.select(Platform)))
        with pytest.raises(LmsPermanentError) as refused:   # Flask answers 308 -> /coursework/
            client.get_json(tool_server.url + "/coursework", [ags.SCOPE_LINEITEM], "the line item list",
                            accept=ags.MT_LINEITEMS)
    assert refused.value.status == 308 and "redirected the line item list elsewhere" in str(refused.value)


def _answer(status: int, body: bytes, reason: str = ""):
    import requests

    response = requests.Response()
    response.status_code, response._content, response.reason = status, body, reason
    response.url = "https://school.instructure.com/api/lti/courses/1/line_items/2/scores"
    return response


def test_canvas_throttling_is_temporary_and_a_real_403_is_not():
    """Canvas throttles with 403 "Rate Limit Exceeded" (not 429): the score must be retried, while
    any other 403 is the LMS refusing and is reported as such."""
    import pytest

    from lti_app.lms.client import raise_for_status
    from lti_app.lms.errors import LmsPermanentError, LmsTemporaryError

    with pytest.raises(LmsTemporaryError, match="rate limit exceeded"):
        raise_for_status(_answer(403, b"403 Forbidden (Rate Limit Exceeded)\n", "Forbidden"), "the score")
    with pytest.raises(LmsTemporaryError):
        raise_for_status(_answer(403, b"", "Forbidden (Rate Limit Exceeded)"), "the score")
    with pytest.raises(LmsPermanentError, match=r"refused the score \(HTTP 403\)"):
        raise_for_status(_answer(403, b'{"errors": [{"message": "insufficient scopes"}]}', "Forbidden"),
                         "the score")
