"""The peer's token endpoint, AGS and NRPS, called over HTTP like a tool would."""
from __future__ import annotations

import time
import uuid

import pytest
import requests

from lti_app.sandbox.keys import named_key
from tests.sandbox.fake_tool import access_token, client_assertion, request_token

S = "https://purl.imsglobal.org/spec/lti-ags/scope/"
NRPS_SCOPE = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
ALL = [S + "lineitem", S + "result.readonly", S + "score", NRPS_SCOPE]
MT_LINEITEM = "application/vnd.ims.lis.v2.lineitem+json"
MT_SCORE = "application/vnd.ims.lis.v1.score+json"


def headers(token, content_type=None):
    h = {"Authorization": f"Bearer {token}"}
    if content_type:
        h["Content-Type"] = content_type
    return h


def get_all(url, token):
    """Follow Link rel=next to the end; returns (items, pages)."""
    items, pages = [], 0
    while url:
        resp = requests.get(url, headers=headers(token), timeout=5)
        assert resp.status_code == 200, resp.text
        body = resp.json()
        items += body["members"] if isinstance(body, dict) else body
        pages += 1
        url = resp.links.get("next", {}).get("url")
    return items, pages


@pytest.fixture
def course(fake_peer):
    fake_peer.add_member("course-1", "teacher-1", "Instructor", name="Ada Teacher")
    for i in range(1, 6):
        fake_peer.add_member("course-1", f"student-{i}", "Learner")
    fake_peer.add_resource_link("course-1", "rl-1")
    return fake_peer


def test_token_endpoint_accepts_a_good_assertion_and_rejects_bad_ones(course):
    peer = course
    good = request_token(peer, ALL)
    assert good.status_code == 200, good.text
    body = good.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] > 0 and set(body["scope"].split()) == set(ALL)
    bad_cases = [dict(key=named_key("attacker")), dict(aud="http://elsewhere/token"),
                 dict(iss="someone-else"), dict(exp=int(time.time()) - 60), dict(kid="unknown-kid")]
    for case in bad_cases:
        resp = request_token(peer, ALL, **case)
        assert resp.status_code == 401 and resp.json()["error"] == "invalid_client", case
    jti = uuid.uuid4().hex
    form = {"grant_type": "client_credentials",
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": client_assertion(peer, jti=jti), "scope": S + "score"}
    assert requests.post(peer.state.token_url, data=form, timeout=5).status_code == 200
    form["client_assertion"] = client_assertion(peer, jti=jti)
    replay = requests.post(peer.state.token_url, data=form, timeout=5)
    assert replay.status_code == 401 and "replay" in replay.json()["error_description"]
    assert requests.post(peer.state.token_url, data={**form, "grant_type": "password"}, timeout=5).status_code == 400
    assert request_token(peer, ["https://example.com/scope/admin"]).status_code == 400
    assert peer.token_requests == 1 + len(bad_cases) + 4


def test_scopes_are_enforced(course):
    score_only = access_token(course, [S + "score"])
    url = course.state.lineitems_url("course-1")
    assert requests.get(url, headers=headers(score_only), timeout=5).status_code == 403
    assert requests.get(url, timeout=5).status_code == 401
    assert requests.get(url, headers=headers("forged"), timeout=5).status_code == 401
    nrps = requests.get(course.state.memberships_url("course-1"), headers=headers(score_only), timeout=5)
    assert nrps.status_code == 403


def test_line_items_create_filter_update_delete_and_page(course):
    token = access_token(course, ALL)
    url = course.state.lineitems_url("course-1")
    wrong_type = requests.post(url, json={"label": "x", "scoreMaximum": 1}, headers=headers(token), timeout=5)
    assert wrong_type.status_code == 415
    for bad in ({"label": "", "scoreMaximum": 5}, {"label": "x", "scoreMaximum": 0},
                {"label": "x", "scoreMaximum": 5, "resourceLinkId": "not-a-link"}):
        resp = requests.post(url, json=bad, headers=headers(token, MT_LINEITEM), timeout=5)
        assert resp.status_code == 400, bad
    created = []
    for i in range(7):
        body = {"label": f"Essay {i}", "scoreMaximum": 6, "tag": "essay" if i % 2 else "draft",
                "resourceId": f"assignment-{i}"}
        if i == 0:
            body["resourceLinkId"] = "rl-1"
        resp = requests.post(url, json=body, headers=headers(token, MT_LINEITEM), timeout=5)
        assert resp.status_code == 201 and resp.headers["Content-Type"] == MT_LINEITEM
        created.append(resp.json())
    items, pages = get_all(url, token)
    assert [i["id"] for i in items] == [c["id"] for c in created] and pages == 3
    assert len(requests.get(url, params={"tag": "essay"}, headers=headers(token), timeout=5).json()) == 3
    by_link = requests.get(url, params={"resource_link_id": "rl-1"}, headers=headers(token), timeout=5).json()
    assert [i["id"] for i in by_link] == [created[0]["id"]]
    assert course.state.courses["course-1"].resource_links["rl-1"].line_item_id is not None
    one = created[1]["id"]
    put = requests.put(one, json={"label": "Renamed", "scoreMaximum": 10},
                       headers=headers(token, MT_LINEITEM), timeout=5)
    assert put.status_code == 200 and put.json()["label"] == "Renamed"
    assert requests.delete(one, headers=headers(token), timeout=5).status_code == 204
    assert requests.get(one, headers=headers(token), timeout=5).status_code == 404
    assert len(course.line_items("course-1")) == 6


def score(user, given=4, maximum=6, when=None, **extra):
    return {"userId": user, "scoreGiven": given, "scoreMaximum": maximum, "activityProgress": "Completed",
            "gradingProgress": "FullyGraded", "comment": "Clear thesis.",
            "timestamp": when or "2026-01-01T10:00:00+00:00", **extra}


def test_scores_are_validated_like_moodle(course):
    token = access_token(course, ALL)
    item = course.add_resource_link("course-1", "rl-graded", line_item={"scoreMaximum": 6, "label": "E1"})
    item_url = course.state.lineitem_url("course-1", item.line_item_id)
    post = lambda body, mt=MT_SCORE: requests.post(item_url + "/scores", json=body,  # noqa: E731
                                                   headers=headers(token, mt), timeout=5)
    teacher = post(score("teacher-1"))
    assert teacher.status_code == 400 and "not a gradeable learner" in teacher.json()["error_description"]
    assert post(score("stranger")).status_code == 400
    assert post(score("student-1", given=7)).status_code == 400
    assert post(score("student-1", when="2026-01-01T10:00:00")).status_code == 400   # no time zone
    assert post(score("student-1", activityProgress="Done")).status_code == 400
    assert post(score("student-1"), mt="application/json").status_code == 415
    assert post(score("student-1", given=3, when="2026-01-01T10:00:00Z")).status_code == 200
    late = post(score("student-1", given=5, when="2026-01-01T11:00:00+00:00"))
    assert late.status_code == 200
    older = post(score("student-1", given=1, when="2026-01-01T09:00:00+00:00"))
    assert older.status_code == 409
    assert [s["scoreGiven"] for s in course.scores(item_url)] == [3, 5]
    assert course.results(item_url) == [{"id": item_url + "/results/student-1", "scoreOf": item_url,
                                         "userId": "student-1", "resultMaximum": 6, "resultScore": 5.0,
                                         "comment": "Clear thesis."}]


def test_results_page_to_the_end(course):
    token = access_token(course, ALL)
    item = course.add_resource_link("course-1", "rl-graded", line_item={"scoreMaximum": 10})
    item_url = course.state.lineitem_url("course-1", item.line_item_id)
    for i in range(1, 6):
        resp = requests.post(item_url + "/scores", json=score(f"student-{i}", given=i, maximum=5),
                             headers=headers(token, MT_SCORE), timeout=5)
        assert resp.status_code == 200
    results, pages = get_all(item_url + "/results", token)
    assert pages == 2 and [r["resultScore"] for r in results] == [2.0, 4.0, 6.0, 8.0, 10.0]
    one = requests.get(item_url + "/results", params={"user_id": "student-2"}, headers=headers(token), timeout=5)
    assert [r["userId"] for r in one.json()] == ["student-2"]


def test_memberships_page_and_filter_by_role(course):
    token = access_token(course, [NRPS_SCOPE])
    url = course.state.memberships_url("course-1")
    first = requests.get(url, headers=headers(token), timeout=5)
    assert first.headers["Content-Type"] == "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"
    assert first.json()["context"]["id"] == "course-1"
    members, pages = get_all(url, token)
    assert len(members) == 6 and pages == 3
    teacher = next(m for m in members if m["user_id"] == "teacher-1")
    assert teacher["name"] == "Ada Teacher" and teacher["status"] == "Active" and teacher["email"]
    learners, _ = get_all(url + "?role=http://purl.imsglobal.org/vocab/lis/v2/membership%23Learner", token)
    assert sorted(m["user_id"] for m in learners) == [f"student-{i}" for i in range(1, 6)]
    instructors, _ = get_all(url + "?role=Instructor", token)
    assert [m["user_id"] for m in instructors] == ["teacher-1"]


def test_failure_injection(course):
    token = access_token(course, ALL)
    url = course.state.memberships_url("course-1")
    course.fail_next(2, status=503)
    assert [requests.get(url, headers=headers(token), timeout=5).status_code for _ in range(3)] == [503, 503, 200]
    course.fail_next(1, mode="timeout", delay=2)
    with pytest.raises(requests.Timeout):
        requests.get(url, headers=headers(token), timeout=0.3)
    assert requests.get(url, headers=headers(token), timeout=5).status_code == 200
    course.fail_next(1, status=500, services=("token",))
    assert request_token(course, ALL).status_code == 500
    assert request_token(course, ALL).status_code == 200


def test_token_endpoint_accepts_a_registered_public_key_without_a_jwks_url(course):
    from lti_app.sandbox.keys import public_jwk

    key = named_key("registered-tool-key")
    course.state.tool.public_jwks = {"keys": [public_jwk(key, "registered")]}
    course.state.tool.jwks_url = ""
    assert request_token(course, ALL, key=key, kid="registered").status_code == 200
    assert request_token(course, ALL, key=named_key("attacker"), kid="registered").status_code == 401


def test_expired_tokens_and_roster_changes(course):
    token = access_token(course, ALL)
    item = course.add_resource_link("course-1", "rl-graded", line_item={"scoreMaximum": 6})
    scores_url = course.state.lineitem_url("course-1", item.line_item_id) + "/scores"
    members_url = course.state.memberships_url("course-1")
    course.expire_tokens()
    expired = requests.get(members_url, headers=headers(token), timeout=5)
    assert expired.status_code == 401 and "expired" in expired.json()["error_description"]
    token = access_token(course, ALL)
    course.remove_member("course-1", "student-5")
    course.add_member("course-1", "student-4", "Learner", status="Inactive")
    members, _ = get_all(members_url, token)
    assert "student-5" not in {m["user_id"] for m in members}
    assert next(m for m in members if m["user_id"] == "student-4")["status"] == "Inactive"
    for user in ("student-4", "student-5"):
        resp = requests.post(scores_url, json=score(user), headers=headers(token, MT_SCORE), timeout=5)
        assert resp.status_code == 400, user


def test_failure_injection_can_target_one_kind_of_call(course):
    token = access_token(course, ALL)
    item = course.add_resource_link("course-1", "rl-graded", line_item={"scoreMaximum": 6})
    item_url = course.state.lineitem_url("course-1", item.line_item_id)
    course.fail_next(1, status=429, match="/scores")
    assert requests.get(item_url, headers=headers(token), timeout=5).status_code == 200
    refused = requests.post(item_url + "/scores", json=score("student-1"), headers=headers(token, MT_SCORE), timeout=5)
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "1"
    assert requests.post(item_url + "/scores", json=score("student-1"), headers=headers(token, MT_SCORE),
                         timeout=5).status_code == 200
    assert [c[1] for c in course.service_calls("ags")] == ["GET", "POST", "POST"]
