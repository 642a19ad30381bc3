"""The development sandbox keeps courses, placements and the gradebook across restarts."""
from __future__ import annotations

import pytest
import requests

from lti_app.sandbox.persist import load
from lti_app.sandbox.state import PlatformState, ToolRegistration
from tests.sandbox.fake_tool import access_token, deep_link_response

ITEM = {"type": "ltiResourceLink", "title": "Essay", "lineItem": {"scoreMaximum": 6, "label": "Essay"}}


def test_state_survives_a_restart(make_fake_peer, tmp_path):
    path = tmp_path / "state.json"
    first = make_fake_peer(persist_path=path)
    launch = first.deep_link()
    assert requests.post(first.state.deep_link_return_url, timeout=5,
                         data={"JWT": deep_link_response(first, launch.claims, [ITEM])}).status_code == 200
    (line_item,) = first.line_items("course-1")
    first.add_member("course-1", "student-1", "Learner")
    token = access_token(first, ["https://purl.imsglobal.org/spec/lti-ags/scope/score"])
    posted = requests.post(line_item["id"] + "/scores", timeout=5, json={
        "userId": "student-1", "scoreGiven": 4, "scoreMaximum": 6, "activityProgress": "Completed",
        "gradingProgress": "FullyGraded", "timestamp": "2026-01-01T10:00:00+00:00"},
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/vnd.ims.lis.v1.score+json"})
    assert posted.status_code == 200
    first.stop()

    again = PlatformState(issuer=first.issuer, tool=first.state.tool)
    assert load(again, path)
    assert again.courses["course-1"].content_items[0]["title"] == "Essay"
    assert again.courses["course-1"].members["student-1"].roles == first.state.courses["course-1"].members["student-1"].roles
    (num,) = again.line_items
    assert again.line_item_json(num) == line_item
    assert [r["scoreGiven"] for r in again.score_log[num]] == [4]
    assert again.results[(num, "student-1")]["scoreGiven"] == 4
    assert again.next_id() > first.state.last_id   # new ids never reuse ones the tool has stored


def test_unreadable_state_file_says_what_to_do(tmp_path):
    path = tmp_path / "state.json"
    path.write_text('{"version": 1}')
    state = PlatformState(tool=ToolRegistration.for_tool("http://localhost:1", "c", "d"))
    with pytest.raises(ValueError, match="delete it"):
        load(state, path)
