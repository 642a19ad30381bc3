"""LTI Dynamic Registration against a fake Moodle 4.x registration service on loopback, and the
Canvas developer-key JSON.

The fake serves what Moodle 4.1+ serves (mod/lti/openid-configuration.php and
mod/lti/openid-registration.php), trimmed to the fields that matter:

  GET  /mod/lti/openid-configuration.php   (Authorization: Bearer <registration token>)
       -> {"issuer": <wwwroot>, "authorization_endpoint": <wwwroot>/mod/lti/auth.php,
           "token_endpoint": <wwwroot>/mod/lti/token.php, "jwks_uri": <wwwroot>/mod/lti/certs.php,
           "registration_endpoint": <wwwroot>/mod/lti/openid-registration.php,
           "scopes_supported": [...], "response_types_supported": ["id_token"],
           "id_token_signing_alg_values_supported": ["RS256"], "claims_supported": [...],
           "https://purl.imsglobal.org/spec/lti-platform-configuration":
               {"product_family_code": "moodle", "version": "4.1 (Build: 20221128)",
                "messages_supported": [{"type": "LtiResourceLinkRequest"},
                                       {"type": "LtiDeepLinkingRequest", "placements": ["ContentArea"]}]}}
  POST /mod/lti/openid-registration.php    (Bearer token, JSON client registration)
       -> the registration echoed back with "client_id" added and the tool-configuration claim
          carrying "deployment_id" (Moodle's tool type id).
"""
from __future__ import annotations

import pytest
from flask import Flask, jsonify, request

from lti_app.extensions import db
from lti_app.lti import canvas
from lti_app.models import Platform
from lti_app.sandbox.server import ServerThread
from tests.lti.conftest import assert_refused, page_text

TOKEN = "moodle-registration-token"
TOOL_CONFIG = "https://purl.imsglobal.org/spec/lti-tool-configuration"


class FakeMoodle:
    def __init__(self, *, issuer_override: str | None = None, refuse: int | None = None):
        self.requests: list[dict] = []
        app = Flask("fake_moodle")
        self.server = ServerThread(app, "127.0.0.1", 0)
        self.url = self.server.url
        issuer = issuer_override or self.url

        @app.get("/mod/lti/openid-configuration.php")
        def openid_configuration():
            self.requests.append({"path": request.path, "auth": request.headers.get("Authorization")})
            if request.headers.get("Authorization") != f"Bearer {TOKEN}":
                return jsonify(error="invalid registration token"), 401
            return jsonify({
                "issuer": issuer,
                "authorization_endpoint": f"{self.url}/mod/lti/auth.php",
                "token_endpoint": f"{self.url}/mod/lti/token.php",
                "token_endpoint_auth_methods_supported": ["private_key_jwt"],
                "token_endpoint_auth_signing_alg_values_supported": ["RS256"],
                "jwks_uri": f"{self.url}/mod/lti/certs.php",
                "registration_endpoint": f"{self.url}/mod/lti/openid-registration.php",
                "scopes_supported": [
                    "https://purl.imsglobal.org/spec/lti-bo/scope/basicoutcome",
                    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly",
                    "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly",
                    "https://purl.imsglobal.org/spec/lti-ags/scope/score",
                    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
                    "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly",
                    "https://purl.imsglobal.org/spec/lti-ts/scope/toolsetting", "openid"],
                "response_types_supported": ["id_token"],
                "subject_types_supported": ["public", "pairwise"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "claims_supported": ["sub", "iss", "name", "given_name", "family_name", "email"],
                "https://purl.imsglobal.org/spec/lti-platform-configuration": {
                    "product_family_code": "moodle", "version": "4.1 (Build: 20221128)",
                    "messages_supported": [{"type": "LtiResourceLinkRequest"},
                                           {"type": "LtiDeepLinkingRequest", "placements": ["ContentArea"]}],
                },
            })

        @app.post("/mod/lti/openid-registration.php")
        def openid_registration():
            body = request.get_json(silent=True)
            self.requests.append({"path": request.path, "auth": request.headers.get("Authorization"),
                                  "json": body})
            if refuse:
                return jsonify(error="registration refused"), refuse
            if request.headers.get("Authorization") != f"Bearer {TOKEN}":
                return jsonify(error="invalid registration token"), 401
            answer = dict(body)
            answer["client_id"] = "moodle-client-7"
            answer[TOOL_CONFIG] = {**body[TOOL_CONFIG], "deployment_id": "12"}
            return jsonify(answer)

    def __enter__(self):
        self.server.start()
        return self

    def __exit__(self, *exc):
        self.server.stop()


def test_dynamic_registration_in_moodle_shape(tool_server):
    with FakeMoodle() as moodle:
        import requests

        page = requests.get(tool_server.url + "/lti/register", timeout=30, params={
            "openid_configuration": moodle.url + "/mod/lti/openid-configuration.php",
            "registration_token": TOKEN})
    assert page.status_code == 200, page_text(page)[:800]
    assert "org.imsglobal.lti.close" in page.text
    assert page.headers["Content-Security-Policy"] == "frame-ancestors *"
    sent = moodle.requests[-1]["json"]
    assert moodle.requests[0]["auth"] == moodle.requests[1]["auth"] == f"Bearer {TOKEN}"
    assert sent["initiate_login_uri"] == tool_server.url + "/lti/login"
    assert sent["redirect_uris"] == [tool_server.url + "/lti/launch"]
    assert sent["jwks_uri"] == tool_server.url + "/lti/jwks"
    assert sent["token_endpoint_auth_method"] == "private_key_jwt"
    assert set(sent["scope"].split()) == {
        "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
        "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly",
        "https://purl.imsglobal.org/spec/lti-ags/scope/score",
        "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly",
        "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"}
    tool_config = sent[TOOL_CONFIG]
    assert tool_config["domain"] == tool_server.url.split("://")[1]
    types = {m["type"]: m for m in tool_config["messages"]}
    assert types["LtiDeepLinkingRequest"]["placements"] == ["ContentArea"]
    assert "LtiResourceLinkRequest" in types
    with tool_server.app.app_context():
        platform = db.session.scalar(db.select(Platform).filter_by(issuer=moodle.url))
        assert platform.client_id == "moodle-client-7"
        assert [d.deployment_id for d in platform.deployments] == ["12"]
        assert platform.auth_login_url == moodle.url + "/mod/lti/auth.php"
        assert platform.auth_token_url == moodle.url + "/mod/lti/token.php"
        assert platform.key_set_url == moodle.url + "/mod/lti/certs.php"
        assert platform.product_family == "moodle"


@pytest.mark.parametrize("fake, token, words", [
    ({"issuer_override": "https://elsewhere.example"}, TOKEN, "does not match the origin"),
    ({}, "wrong-token", "answered 401"),
    ({"refuse": 400}, TOKEN, "answered 400"),
])
def test_dynamic_registration_errors_in_words(tool_server, fake, token, words):
    import requests

    with FakeMoodle(**fake) as moodle:
        page = requests.get(tool_server.url + "/lti/register", timeout=30, params={
            "openid_configuration": moodle.url + "/mod/lti/openid-configuration.php",
            "registration_token": token})
    assert_refused(page, words)
    with tool_server.app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Platform)) == 0


def test_registration_without_parameters_or_unreachable(client):
    assert_refused(client.get("/lti/register"), "must send openid_configuration")
    response = client.get("/lti/register", query_string={"openid_configuration": "http://127.0.0.1:9/x"})
    assert_refused(response, "Could not reach", status=400)
    assert_refused(client.get("/lti/register", query_string={"openid_configuration": "file:///etc/passwd"}),
                   "must be an http(s) URL")


def test_canvas_json_names_the_public_urls(make_app):
    app = make_app(public_url="https://gradeloop.school.edu")
    config = app.test_client().get("/lti/canvas.json").get_json()
    assert config["oidc_initiation_url"] == "https://gradeloop.school.edu/lti/login"
    assert config["target_link_uri"] == "https://gradeloop.school.edu/lti/launch"
    assert config["public_jwk_url"] == "https://gradeloop.school.edu/lti/jwks"
    assert set(config["scopes"]) == set(canvas.SCOPES)
    (ext,) = config["extensions"]
    assert ext["platform"] == "canvas.instructure.com" and ext["domain"] == "gradeloop.school.edu"
    assert ext["privacy_level"] == "public"
    placements = {p["placement"]: p for p in ext["settings"]["placements"]}
    for name in ("link_selection", "assignment_selection"):
        assert placements[name]["message_type"] == "LtiDeepLinkingRequest"
        assert placements[name]["target_link_uri"] == config["target_link_uri"]
    assert config["title"] and config["description"] and config["custom_fields"]


def test_canvas_json_uses_request_host_when_public_url_unset(client):
    config = client.get("/lti/canvas.json", base_url="http://tool.local:8000").get_json()
    assert config["oidc_initiation_url"] == "http://tool.local:8000/lti/login"
