"""LTI Dynamic Registration against the sandbox platform: the endpoint's checks, and the real
tool's /lti/register registering itself end to end, then launching with the new client_id."""
from __future__ import annotations

import requests

from lti_app.extensions import db
from lti_app.models import Platform
from lti_app.sandbox.registration import TOOL_CONFIG, issue_registration_token
from tests.lti.conftest import assert_refused, page_text


def registration_body(tool="http://localhost:9", **changes):
    body = {"application_type": "web", "response_types": ["id_token"],
            "grant_types": ["implicit", "client_credentials"], "initiate_login_uri": f"{tool}/lti/login",
            "redirect_uris": [f"{tool}/lti/launch"], "client_name": "Tool", "jwks_uri": f"{tool}/lti/jwks",
            "token_endpoint_auth_method": "private_key_jwt",
            "scope": "https://purl.imsglobal.org/spec/lti-ags/scope/score",
            TOOL_CONFIG: {"domain": tool.split("//")[1], "target_link_uri": f"{tool}/lti/launch",
                          "messages": [{"type": "LtiDeepLinkingRequest", "target_link_uri": f"{tool}/lti/dl"}]}}
    body.update(changes)
    return body


def test_registration_endpoint_checks_token_and_metadata(fake_peer):
    config = requests.get(fake_peer.url + "/.well-known/openid-configuration", timeout=5).json()
    assert config["issuer"] == fake_peer.issuer and config["registration_endpoint"] == fake_peer.url + "/registration"
    url = config["registration_endpoint"]
    assert requests.post(url, json=registration_body(), timeout=5).status_code == 401
    token = issue_registration_token(fake_peer.state)
    auth = {"Authorization": f"Bearer {token}"}
    for bad in (registration_body(grant_types=["implicit"]), registration_body(redirect_uris=[]),
                registration_body(jwks_uri="ftp://x"),
                registration_body(**{TOOL_CONFIG: {"domain": "elsewhere:1", "target_link_uri": "http://localhost:9/"}})):
        assert requests.post(url, json=bad, headers=auth, timeout=5).status_code == 400
    answer = requests.post(url, json=registration_body(), headers=auth, timeout=5)
    assert answer.status_code == 200
    body = answer.json()
    assert body["client_id"] == fake_peer.client_id and body[TOOL_CONFIG]["deployment_id"] == fake_peer.deployment_id
    assert fake_peer.state.tool.deep_link_url == "http://localhost:9/lti/dl"
    assert fake_peer.state.tool.scopes == ("https://purl.imsglobal.org/spec/lti-ags/scope/score",)
    assert requests.post(url, json=registration_body(), headers=auth, timeout=5).status_code == 401  # single use


def test_real_tool_registers_dynamically_then_launches(peer, tool_server):
    # The peer runs on loopback, which the tool contacts for a registration only when listed.
    tool_server.app.config["GRADELOOP_REGISTRATION_ORIGINS"] = [peer.url]
    old_client = peer.client_id
    page = peer.dynamic_registration()
    assert page.status_code == 200, page.text[:500]
    assert peer.client_id != old_client and peer.state.registrations[-1]["client_id"] == peer.client_id
    with tool_server.app.app_context():
        row = db.session.scalar(db.select(Platform).filter_by(issuer=peer.issuer, client_id=peer.client_id))
        assert row is not None and [d.deployment_id for d in row.deployments] == [peer.deployment_id]
    result = peer.launch(role="Learner", user_id="student-1")
    assert result.reached_launch and result.response.status_code == 200
    assert result.claims["aud"] == peer.client_id


def test_canvas_shaped_registration_answers_no_deployment(fake_peer):
    """`registration_answers_deployment = False`: the answer has client_id only, as Canvas's."""
    fake_peer.state.registration_answers_deployment = False
    token = issue_registration_token(fake_peer.state)
    answer = requests.post(fake_peer.url + "/registration", json=registration_body(), timeout=5,
                           headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200
    assert answer.json()["client_id"] == fake_peer.client_id
    assert "deployment_id" not in answer.json()[TOOL_CONFIG]


def test_canvas_cloud_shaped_registration_lists_the_schools_origin_then_launches(peer, tool_server, monkeypatch):
    """Canvas cloud as canvas-lms builds it: the configuration URL on the issuer's host
    (canvas.instructure.com: the peer's own URL here), the registration endpoint on the school's
    host (school.test, pinned to this machine), login, token and key set on a third host
    (sso.canvaslms.com: `localhost` here, a public address to the registration's checks as
    sso.canvaslms.com is). Listing the issuer's origin alone refuses the school's registration
    endpoint before anything is POSTed; with the school's origin listed it registers, stores the
    third host's URLs unlisted, and launches."""
    from lti_app.lti import registration_policy

    school, sso = f"http://school.test:{peer.server.port}", f"http://localhost:{peer.server.port}"
    peer.state.registration_origin, peer.state.service_origin = school, sso
    peer.state.registration_answers_deployment = False        # as Canvas answers
    real = registration_policy.resolve
    names = {"school.test": ["127.0.0.1"], "localhost": ["93.184.215.14"]}
    monkeypatch.setattr(registration_policy, "resolve", lambda host, port: names.get(host) or real(host, port))

    tool_server.app.config["GRADELOOP_REGISTRATION_ORIGINS"] = [peer.url]
    assert_refused(peer.dynamic_registration(),
                   f"registration endpoint is on {school}, which is not listed", status=403)
    assert peer.state.registrations == []

    tool_server.app.config["GRADELOOP_REGISTRATION_ORIGINS"] = [peer.url, school]
    page = peer.dynamic_registration()
    assert page.status_code == 200, page_text(page)[:500]
    with tool_server.app.app_context():
        row = db.session.scalar(db.select(Platform).filter_by(issuer=peer.issuer, client_id=peer.client_id))
        assert (row.auth_login_url, row.auth_token_url, row.key_set_url) == (sso + "/auth", sso + "/token",
                                                                            sso + "/jwks")
    result = peer.launch(role="Learner", user_id="student-1")
    assert result.reached_launch and result.response.status_code == 200, page_text(result.response)[:800]
    assert result.claims["aud"] == peer.client_id


def test_a_configuration_that_names_another_hosts_issuer_is_refused(peer, tool_server):
    """The shape a reviewer feared Canvas cloud had, which canvas-lms does not build: the
    configuration URL on the school's host naming the shared issuer https://canvas.instructure.com.
    Accepting it would let any listed host register keys under Canvas's issuer: refused before
    anything is POSTed, without showing the issuer."""
    peer.state.registration_origin = peer.state.service_origin = peer.url
    peer.state.issuer = "https://canvas.instructure.com"
    tool_server.app.config["GRADELOOP_REGISTRATION_ORIGINS"] = [peer.url]
    page = requests.get(tool_server.url + "/lti/register", timeout=30, params={
        "openid_configuration": peer.url + "/.well-known/openid-configuration",
        "registration_token": issue_registration_token(peer.state)})
    assert_refused(page, "does not match the origin of its configuration URL")
    assert "canvas.instructure.com" not in page.text
    assert peer.state.registrations == []
    with tool_server.app.app_context():
        assert db.session.scalar(db.select(Platform).filter_by(issuer=peer.state.issuer)) is None
