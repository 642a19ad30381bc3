"""A deliberately small LTI tool used ONLY to test the sandbox peer itself (before and
independently of Gradeloop's real `/lti/*` endpoints): it does the OIDC login, verifies the
peer's id_token against the peer's JWKS over HTTP, and signs client assertions and deep linking
responses with its own key served at `/lti/jwks`."""
from __future__ import annotations

import secrets
import time
import uuid
from urllib.parse import urlencode

import jwt
import requests
from flask import Flask, jsonify, redirect, request

from lti_app.sandbox.keys import named_key, public_jwk, thumbprint
from tests.peer import Peer

TOOL_KEY = "fake-tool"


def tool_key():
    return named_key(TOOL_KEY)


def tool_kid() -> str:
    return thumbprint(tool_key())


def create_fake_tool(platform: dict) -> Flask:
    """`platform` is filled in after the peer starts: issuer, client_id, auth_url, jwks_url."""
    app = Flask("fake_tool")

    @app.route("/lti/login", methods=["GET", "POST"])
    def login():
        params = request.values
        if params.get("iss") != platform["issuer"] or params.get("client_id") != platform["client_id"]:
            return jsonify(error="unknown platform"), 400
        state, nonce = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
        query = {"scope": "openid", "response_type": "id_token", "response_mode": "form_post",
                 "prompt": "none", "client_id": params["client_id"],
                 "redirect_uri": request.host_url.rstrip("/") + "/lti/launch",
                 "login_hint": params["login_hint"], "lti_message_hint": params.get("lti_message_hint", ""),
                 "state": state, "nonce": nonce}
        response = redirect(platform["auth_url"] + "?" + urlencode(query))
        response.set_cookie("fake_login", f"{state}.{nonce}")
        return response

    @app.post("/lti/launch")
    def launch():
        if request.form.get("error"):
            return jsonify(error=request.form["error"], description=request.form.get("error_description")), 400
        state, _, nonce = (request.cookies.get("fake_login") or "").partition(".")
        if not state or request.form.get("state") != state:
            return jsonify(error="state mismatch"), 400
        token = request.form.get("id_token", "")
        try:
            key = jwt.PyJWKClient(platform["jwks_url"]).get_signing_key_from_jwt(token).key
            claims = jwt.decode(token, key, algorithms=["RS256"], audience=platform["client_id"],
                                issuer=platform["issuer"])
        except jwt.PyJWTError as exc:
            return jsonify(error=f"bad id_token: {exc}"), 400
        if claims.get("nonce") != nonce:
            return jsonify(error="nonce mismatch"), 400
        return jsonify(ok=True, claims=claims, storage_target=request.form.get("lti_storage_target"))

    @app.get("/lti/jwks")
    def jwks():
        return jsonify(keys=[public_jwk(tool_key(), tool_kid())])

    return app


def client_assertion(peer: Peer, *, key=None, kid: str | None = None, **overrides) -> str:
    now = int(time.time())
    claims = {"iss": peer.client_id, "sub": peer.client_id, "aud": peer.state.token_url,
              "iat": now, "exp": now + 300, "jti": uuid.uuid4().hex}
    claims.update(overrides)
    return jwt.encode(claims, key or tool_key(), algorithm="RS256", headers={"kid": kid or tool_kid()})


def request_token(peer: Peer, scopes, **assertion_overrides) -> requests.Response:
    return requests.post(peer.state.token_url, timeout=10, data={
        "grant_type": "client_credentials",
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "client_assertion": client_assertion(peer, **assertion_overrides),
        "scope": " ".join(scopes)})


def access_token(peer: Peer, scopes) -> str:
    response = request_token(peer, scopes)
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


def deep_link_response(peer: Peer, launch_claims: dict, items: list[dict], *, key=None, **overrides) -> str:
    """The JWT a tool posts back to deep_link_return_url."""
    now = int(time.time())
    settings = launch_claims["https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"]
    claims = {"iss": peer.client_id, "aud": peer.issuer, "iat": now, "exp": now + 300,
              "nonce": uuid.uuid4().hex,
              "https://purl.imsglobal.org/spec/lti/claim/message_type": "LtiDeepLinkingResponse",
              "https://purl.imsglobal.org/spec/lti/claim/version": "1.3.0",
              "https://purl.imsglobal.org/spec/lti/claim/deployment_id": peer.deployment_id,
              "https://purl.imsglobal.org/spec/lti-dl/claim/data": settings["data"],
              "https://purl.imsglobal.org/spec/lti-dl/claim/content_items": items}
    claims.update(overrides)
    return jwt.encode(claims, key or tool_key(), algorithm="RS256", headers={"kid": tool_kid()})
