"""The peer's launches: OIDC auth endpoint checks, id_token claims and signature, key rotation."""
from __future__ import annotations

import jwt
import requests

from lti_app.sandbox.keys import named_key

LTI = "https://purl.imsglobal.org/spec/lti/claim/"
AGS = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
NRPS = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
DL = "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"


def verify(peer, token):
    key = jwt.PyJWKClient(peer.state.jwks_url).get_signing_key_from_jwt(token).key
    return jwt.decode(token, key, algorithms=["RS256"], audience=peer.client_id, issuer=peer.issuer)


def test_resource_link_launch_round_trip_carries_required_claims(fake_peer):
    fake_peer.add_resource_link("course-1", "rl-graded", title="Essay 1", line_item={"scoreMaximum": 6},
                                custom={"prompt": "cars"})
    result = fake_peer.launch(role="Learner", user_id="student-1", resource_link_id="rl-graded")
    assert result.response.status_code == 200, result.response.text
    assert result.response.json()["claims"]["nonce"] == result.claims["nonce"]
    claims = verify(fake_peer, result.id_token)
    assert jwt.get_unverified_header(result.id_token)["kid"] == fake_peer.kid
    assert claims["aud"] == claims["azp"] == fake_peer.client_id
    assert claims["sub"] == "student-1" and claims["exp"] > claims["iat"]
    assert claims[LTI + "message_type"] == "LtiResourceLinkRequest"
    assert claims[LTI + "version"] == "1.3.0"
    assert claims[LTI + "deployment_id"] == fake_peer.deployment_id
    assert claims[LTI + "target_link_uri"] == fake_peer.state.tool.launch_url
    assert claims[LTI + "roles"] == ["http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"]
    assert claims[LTI + "context"]["id"] == "course-1"
    assert claims[LTI + "resource_link"] == {"id": "rl-graded", "title": "Essay 1"}
    assert claims[LTI + "custom"] == {"prompt": "cars"}
    assert claims[LTI + "tool_platform"]["product_family_code"] == "gradeloop-sandbox"
    assert claims[LTI + "launch_presentation"]["document_target"] == "iframe"
    assert claims["name"] and claims["email"] and claims["given_name"]
    ags = claims[AGS]
    assert ags["lineitems"].endswith("/api/lti/courses/course-1/lineitems")
    assert ags["lineitem"] == fake_peer.line_items("course-1")[0]["id"]
    assert "https://purl.imsglobal.org/spec/lti-ags/scope/score" in ags["scope"]
    assert claims[NRPS] == {"context_memberships_url": fake_peer.state.memberships_url("course-1"),
                            "service_versions": ["2.0"]}


def test_roles_map_to_full_uris(fake_peer):
    ta = fake_peer.base_claims(role="TA", user_id="ta-1")
    admin = fake_peer.base_claims(role="Administrator", user_id="admin-1")
    assert ta[LTI + "roles"] == ["http://purl.imsglobal.org/vocab/lis/v2/membership/Instructor#TeachingAssistant"]
    assert admin[LTI + "roles"] == ["http://purl.imsglobal.org/vocab/lis/v2/institution/person#Administrator"]


def test_deep_linking_request_claims(fake_peer):
    result = fake_peer.deep_link()
    assert result.response.status_code == 200
    claims = verify(fake_peer, result.id_token)
    assert claims[LTI + "message_type"] == "LtiDeepLinkingRequest"
    assert LTI + "resource_link" not in claims
    settings = claims[DL]
    assert settings["deep_link_return_url"] == fake_peer.state.deep_link_return_url
    assert settings["accept_types"] == ["ltiResourceLink"]
    assert settings["accept_multiple"] is True and settings["data"]
    assert "iframe" in settings["accept_presentation_document_targets"]


def test_overrides_drops_and_replaced_tokens_reach_the_tool(fake_peer):
    result = fake_peer.launch(claims={"sub": "someone-else"}, drop_claims=["email"])
    assert result.claims["sub"] == "someone-else" and "email" not in result.claims
    bad = fake_peer.sign({**fake_peer.base_claims(), "aud": "other"}, key=named_key("attacker"))
    result = fake_peer.launch(id_token=bad)
    assert result.id_token == bad
    assert result.response.status_code == 400 and "bad id_token" in result.response.json()["error"]


def test_storage_target_is_sent_at_initiation_and_in_the_auth_response(fake_peer):
    result = fake_peer.launch(storage_target="_parent")
    assert "lti_storage_target=_parent" in result.login_response.history[0].url
    assert result.response.json()["storage_target"] == "_parent"


def test_key_rotation_publishes_old_kid_until_it_expires(fake_peer):
    old_kid = fake_peer.kid
    first = fake_peer.launch()
    new_kid = fake_peer.rotate_keys()
    assert new_kid != old_kid
    kids = {k["kid"] for k in requests.get(fake_peer.state.jwks_url, timeout=5).json()["keys"]}
    assert kids == {old_kid, new_kid}
    assert verify(fake_peer, first.id_token)["sub"] == "teacher-1"   # old tokens still verify
    second = fake_peer.launch()
    assert jwt.get_unverified_header(second.id_token)["kid"] == new_kid
    assert second.response.status_code == 200
    fake_peer.rotate_keys(keep_old_seconds=0)
    kids = {k["kid"] for k in requests.get(fake_peer.state.jwks_url, timeout=5).json()["keys"]}
    assert kids == {old_kid, fake_peer.kid}   # new_kid was retired with no overlap


def test_auth_endpoint_refuses_bad_requests(fake_peer):
    spec_result = fake_peer.launch()
    base = {"scope": "openid", "response_type": "id_token", "response_mode": "form_post", "prompt": "none",
            "client_id": fake_peer.client_id, "redirect_uri": fake_peer.state.tool.launch_url,
            "login_hint": "teacher-1", "lti_message_hint": spec_result.hint, "state": "s", "nonce": "n"}
    auth = fake_peer.state.auth_url
    assert requests.get(auth, params={**base, "client_id": "nope"}, timeout=5).status_code == 400
    assert requests.get(auth, params={**base, "redirect_uri": "http://evil.example/"}, timeout=5).status_code == 400
    for change, error in (({"scope": "email"}, "invalid_scope"), ({"nonce": ""}, "invalid_request"),
                          ({"login_hint": "student-9"}, "login_required"),
                          ({"lti_message_hint": "forged"}, "invalid_request"),
                          ({"response_mode": "query"}, "invalid_request")):
        page = requests.post(auth, data={**base, **change}, timeout=5)
        assert f'name="error" value="{error}"' in page.text, change
        assert "id_token" not in page.text
    good = requests.post(auth, data=base, timeout=5)
    assert 'name="id_token"' in good.text and f'action="{fake_peer.state.tool.launch_url}"' in good.text


def test_sign_can_leave_out_the_kid_and_use_other_algorithms(fake_peer):
    claims = fake_peer.base_claims()
    assert "kid" not in jwt.get_unverified_header(fake_peer.sign(claims, headers={"kid": None}))
    assert jwt.get_unverified_header(fake_peer.sign(claims, alg="none"))["alg"] == "none"
    hs = fake_peer.sign(claims, alg="HS256", key="a-shared-secret-of-32-bytes-long!")
    assert jwt.get_unverified_header(hs)["alg"] == "HS256"


def test_service_claims_follow_the_registrations_scopes(fake_peer):
    score = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
    full = fake_peer.base_claims()
    assert len(full[AGS]["scope"]) == 4 and NRPS in full
    fake_peer.state.tool.scopes = (score,)          # an LMS set up for grade sync only
    claims = fake_peer.base_claims()
    assert claims[AGS]["scope"] == [score] and NRPS not in claims
    fake_peer.state.tool.scopes = ()                # services switched off
    assert AGS not in fake_peer.base_claims()
