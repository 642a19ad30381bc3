"""Malformed requests to every platform endpoint get a clear 4xx, never a 500 or a stored record."""
from __future__ import annotations

import requests

from tests.sandbox.fake_tool import access_token

S = "https://purl.imsglobal.org/spec/lti-ags/scope/"
MT_SCORE = "application/vnd.ims.lis.v1.score+json"
MT_LINEITEM = "application/vnd.ims.lis.v2.lineitem+json"


def test_malformed_requests_are_4xx(fake_peer):
    peer = fake_peer
    peer.add_member("course-1", "student-1", "Learner")
    item = peer.add_resource_link("course-1", "rl-1", line_item={"scoreMaximum": 6})
    item_url = peer.state.lineitem_url("course-1", item.line_item_id)
    token = access_token(peer, [S + "lineitem", S + "score", S + "result.readonly"])
    auth = {"Authorization": f"Bearer {token}"}
    calls = [
        ("post", peer.state.token_url, {}),
        ("post", peer.state.token_url, {"data": {"grant_type": "client_credentials"}}),
        ("post", peer.state.token_url, {"data": {
            "grant_type": "client_credentials", "scope": S + "score", "client_assertion": "x.y.z",
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}}),
        ("get", peer.state.auth_url, {}),
        ("post", peer.state.deep_link_return_url, {}),
        ("post", peer.state.deep_link_return_url, {"data": {"JWT": "a" * 5000}}),
        ("post", item_url + "/scores", {"data": "{not json", "headers": {**auth, "Content-Type": MT_SCORE}}),
        ("post", item_url + "/scores", {"data": "[1, 2]", "headers": {**auth, "Content-Type": MT_SCORE}}),
        ("post", item_url + "/scores", {"headers": {**auth, "Content-Type": MT_SCORE}, "data":
            '{"userId": "student-1", "scoreGiven": NaN, "scoreMaximum": 6, "activityProgress": "Completed",'
            ' "gradingProgress": "FullyGraded", "timestamp": "2026-01-01T00:00:00Z"}'}),
        ("post", item_url + "/scores", {"headers": {**auth, "Content-Type": MT_SCORE}, "data":
            '{"userId": "student-1", "scoreGiven": 1, "scoreMaximum": Infinity, "activityProgress": "Completed",'
            ' "gradingProgress": "FullyGraded", "timestamp": "2026-01-01T00:00:00Z"}'}),
        ("post", item_url + "/scores", {"headers": {**auth, "Content-Type": MT_SCORE}, "json": {
            "userId": ["student-1"], "activityProgress": "Completed", "gradingProgress": "FullyGraded"}}),
        ("post", peer.state.lineitems_url("course-1"), {"headers": {**auth, "Content-Type": MT_LINEITEM},
                                                        "json": {"label": 5, "scoreMaximum": "6"}}),
        ("get", peer.state.lineitems_url("course-1") + "?limit=abc", {"headers": auth}),
        ("get", peer.state.lineitems_url("course-1") + "?limit=0", {"headers": auth}),
        ("get", item_url + "/results?page=-1", {"headers": auth}),
        ("get", peer.state.lineitems_url("no-such-course"), {"headers": auth}),
        ("get", peer.state.lineitems_url("course-1") + "/999", {"headers": auth}),
        ("put", item_url, {"headers": {**auth, "Content-Type": MT_LINEITEM},
                           "json": {"id": "http://elsewhere/1", "label": "x", "scoreMaximum": 1}}),
        ("get", peer.state.memberships_url("course-1") + "?role=Wizard", {"headers": {
            "Authorization": "Bearer " + access_token(
                peer, ["https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"])}}),
    ]
    for method, url, kwargs in calls:
        resp = getattr(requests, method)(url, timeout=5, **kwargs)
        assert 400 <= resp.status_code < 500, (method, url, kwargs, resp.status_code, resp.text[:300])
    assert peer.scores(item_url) == [] and len(peer.line_items("course-1")) == 1
    assert peer.line_items("course-1")[0]["scoreMaximum"] == 6
