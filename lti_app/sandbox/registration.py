"""LTI Dynamic Registration 1.0, platform side: the sandbox's OpenID configuration and its
registration endpoint. A tool registered this way (as Moodle 4.1+ / Canvas do it) replaces the
sandbox's current tool registration: new client_id and deployment, URLs from the tool's request.
"""
from __future__ import annotations

import secrets
from urllib.parse import urlparse

from flask import Blueprint, request

from lti_app.sandbox.oidc import product_family
from lti_app.sandbox.services import ServiceError, json_response, state
from lti_app.sandbox.state import AGS_SCOPES, NRPS_SCOPE, PlatformState, ToolRegistration

bp = Blueprint("sandbox_registration", __name__)

TOOL_CONFIG = "https://purl.imsglobal.org/spec/lti-tool-configuration"
PLATFORM_CONFIG = "https://purl.imsglobal.org/spec/lti-platform-configuration"


def openid_configuration_url(st: PlatformState) -> str:
    return st.url("/.well-known/openid-configuration")


def issue_registration_token(st: PlatformState) -> str:
    token = secrets.token_urlsafe(24)
    with st.lock:
        st.registration_tokens.add(token)
    return token


@bp.get("/.well-known/openid-configuration")
def openid_configuration():
    st = state()
    return json_response({
        "issuer": st.issuer,
        "authorization_endpoint": st.auth_url,
        "token_endpoint": st.token_url,
        "token_endpoint_auth_methods_supported": ["private_key_jwt"],
        "token_endpoint_auth_signing_alg_values_supported": ["RS256"],
        "jwks_uri": st.jwks_url,
        "registration_endpoint": st.registration_url,
        "scopes_supported": ["openid", *AGS_SCOPES, NRPS_SCOPE],
        "response_types_supported": ["id_token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "claims_supported": ["iss", "aud", "sub", "name", "given_name", "family_name", "email"],
        PLATFORM_CONFIG: {"product_family_code": product_family(st), "version": "1.0",
                          "messages_supported": [{"type": "LtiResourceLinkRequest"},
                                                 {"type": "LtiDeepLinkingRequest",
                                                  "placements": ["ContentArea"]}]},
    })


def _url(value, name: str) -> str:
    parsed = urlparse(value if isinstance(value, str) else "")
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ServiceError(400, f"{name} must be an http(s) URL", "invalid_client_metadata")
    return value


def _registration(body: dict) -> ToolRegistration:
    """Validate the tool's client registration (LTI-DR section 3.3) into a ToolRegistration."""
    if body.get("application_type") != "web":
        raise ServiceError(400, "application_type must be 'web'", "invalid_client_metadata")
    if "id_token" not in (body.get("response_types") or []):
        raise ServiceError(400, "response_types must include id_token", "invalid_client_metadata")
    if not {"implicit", "client_credentials"} <= set(body.get("grant_types") or []):
        raise ServiceError(400, "grant_types must include implicit and client_credentials",
                           "invalid_client_metadata")
    if body.get("token_endpoint_auth_method") != "private_key_jwt":
        raise ServiceError(400, "token_endpoint_auth_method must be private_key_jwt", "invalid_client_metadata")
    redirect_uris = body.get("redirect_uris")
    if not isinstance(redirect_uris, list) or not redirect_uris:
        raise ServiceError(400, "redirect_uris must be a non-empty list", "invalid_redirect_uri")
    for uri in redirect_uris:
        _url(uri, "each redirect_uri")
    config = body.get(TOOL_CONFIG)
    if not isinstance(config, dict):
        raise ServiceError(400, f"the {TOOL_CONFIG} claim is required", "invalid_client_metadata")
    target = _url(config.get("target_link_uri"), "target_link_uri")
    login = _url(body.get("initiate_login_uri"), "initiate_login_uri")
    jwks = _url(body.get("jwks_uri"), "jwks_uri")
    domain = config.get("domain")
    if not domain or any(urlparse(u).netloc != domain for u in (target, login, *redirect_uris)):
        raise ServiceError(400, "domain must be the host of initiate_login_uri, redirect_uris and "
                                "target_link_uri", "invalid_client_metadata")
    deep_link = next((m.get("target_link_uri") for m in config.get("messages") or []
                      if isinstance(m, dict) and m.get("type") == "LtiDeepLinkingRequest"), None)
    requested = set(str(body.get("scope") or "").split())
    scopes = tuple(s for s in (*AGS_SCOPES, NRPS_SCOPE) if s in requested)
    return ToolRegistration(client_id="sandbox-dr-" + secrets.token_hex(6),
                            deployment_id="dr-deployment-" + secrets.token_hex(3),
                            login_url=login, launch_url=target, jwks_url=jwks,
                            deep_link_url=_url(deep_link, "deep linking target_link_uri") if deep_link else target,
                            redirect_uris=list(redirect_uris), scopes=scopes)


@bp.post("/registration")
def register():
    st = state()
    header = request.headers.get("Authorization", "")
    token = header[7:].strip() if header.lower().startswith("bearer ") else ""
    with st.lock:
        if token not in st.registration_tokens:
            raise ServiceError(401, "a valid registration token (Authorization: Bearer) is required",
                               "invalid_token")
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ServiceError(400, "the body must be a JSON client registration", "invalid_client_metadata")
    tool = _registration(body)
    with st.lock:
        st.registration_tokens.discard(token)   # single use
        st.tool = tool
        st.tool_jwks_cache = None
        st.registrations.append({"client_id": tool.client_id, "deployment_id": tool.deployment_id,
                                 "client_name": body.get("client_name", "")})
        answers_deployment = st.registration_answers_deployment
    tool_config = dict(body[TOOL_CONFIG])
    if answers_deployment:   # Moodle does; Canvas does not (`registration_answers_deployment`)
        tool_config["deployment_id"] = tool.deployment_id
    answer = {**body, "client_id": tool.client_id, TOOL_CONFIG: tool_config}
    return json_response(answer)
