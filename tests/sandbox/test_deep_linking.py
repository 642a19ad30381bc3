"""The peer's deep linking return endpoint: verified responses become placements and line items."""
from __future__ import annotations

import requests

from lti_app.sandbox.keys import named_key
from tests.sandbox.fake_tool import deep_link_response

ITEMS = [{"type": "ltiResourceLink", "title": "Persuasive essay", "url": "http://localhost/lti/launch",
          "custom": {"assignment": "a-1"},
          "lineItem": {"scoreMaximum": 6, "label": "Persuasive essay", "resourceId": "a-1", "tag": "essay"}},
         {"type": "ltiResourceLink", "title": "Practice (ungraded)"}]


def post(peer, token):
    return requests.post(peer.state.deep_link_return_url, data={"JWT": token}, timeout=5)


def test_verified_response_creates_links_and_line_items(fake_peer):
    launch = fake_peer.deep_link()
    resp = post(fake_peer, deep_link_response(fake_peer, launch.claims, ITEMS))
    assert resp.status_code == 200 and "Persuasive essay" in resp.text
    stored = fake_peer.deep_link_items("course-1")
    assert [i["title"] for i in stored] == ["Persuasive essay", "Practice (ungraded)"]
    (line_item,) = fake_peer.line_items("course-1")
    assert line_item["scoreMaximum"] == 6 and line_item["resourceId"] == "a-1" and line_item["tag"] == "essay"
    assert line_item["resourceLinkId"] == stored[0]["resource_link_id"]
    assert stored[1]["line_item_id"] is None
    # A student launching the new placement gets its lineitem URL and custom parameters.
    student = fake_peer.launch(role="Learner", user_id="student-1", resource_link_id=stored[0]["resource_link_id"])
    ags = student.claims["https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"]
    assert ags["lineitem"] == line_item["id"]
    assert student.claims["https://purl.imsglobal.org/spec/lti/claim/custom"] == {"assignment": "a-1"}


def test_bad_responses_are_refused_with_400(fake_peer):
    launch = fake_peer.deep_link()
    bad = [deep_link_response(fake_peer, launch.claims, ITEMS, key=named_key("attacker")),
           deep_link_response(fake_peer, launch.claims, ITEMS, aud="http://other-lms"),
           deep_link_response(fake_peer, launch.claims, ITEMS, iss="someone"),
           deep_link_response(fake_peer, launch.claims, ITEMS, **{
               "https://purl.imsglobal.org/spec/lti/claim/deployment_id": "other"}),
           deep_link_response(fake_peer, launch.claims, ITEMS, **{
               "https://purl.imsglobal.org/spec/lti-dl/claim/data": "forged"}),
           deep_link_response(fake_peer, launch.claims, [{"type": "html", "html": "<p>x</p>"}]),
           deep_link_response(fake_peer, launch.claims, [{"type": "ltiResourceLink", "lineItem": {"scoreMaximum": 0}}]),
           "not.a.jwt", ""]
    for token in bad:
        resp = post(fake_peer, token)
        assert resp.status_code == 400 and 'data-status="400"' in resp.text, token[:40]
    assert fake_peer.deep_link_items("course-1") == [] and fake_peer.line_items("course-1") == []
    good = deep_link_response(fake_peer, launch.claims, ITEMS[1:])
    assert post(fake_peer, good).status_code == 200
    assert post(fake_peer, good).status_code == 400   # replayed nonce
    assert len(fake_peer.deep_link_items("course-1")) == 1
