"""`/lti/register`: LTI Dynamic Registration 1.0 as Moodle 4.1+ and Canvas run it.

The LMS opens this page (iframe or popup) with `openid_configuration` and usually a
`registration_token`. We fetch the platform's OpenID configuration, POST our client
registration to its `registration_endpoint`, store the platform with `upsert_platform`, and
answer a page that tells the LMS to close the dialog (`org.imsglobal.lti.close`).
"""
from __future__ import annotations

from urllib.parse import urlparse

import requests
from flask import current_app, make_response, render_template, request

from lti_app.lti import framing, registry
from lti_app.lti.canvas import SCOPES, TITLE, DESCRIPTION
from lti_app.lti.errors import LaunchError
from lti_app.lti.urls import origin, public_base, public_url
from lti_app.platforms import upsert_platform

PLATFORM_CONFIG = "https://purl.imsglobal.org/spec/lti-platform-configuration"
TOOL_CONFIG = "https://purl.imsglobal.org/spec/lti-tool-configuration"
MAX_BYTES = 1_000_000


def _http(method: str, url: str, token: str | None, **kwargs) -> dict:
    timeout = current_app.config.get("GRADELOOP_HTTP_TIMEOUT", 10.0)
    headers = {"Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    try:
        resp = requests.request(method, url, headers=headers, timeout=(min(timeout, 5.0), timeout),
                                allow_redirects=False, **kwargs)
    except requests.RequestException as exc:
        raise LaunchError(f"Could not reach {url}: {exc}", code="registration_unreachable") from exc
    if resp.status_code >= 400:
        raise LaunchError(f"The platform answered {resp.status_code} from {url}: {resp.text[:300]}",
                          code="registration_refused")
    try:
        data = resp.json() if len(resp.content) <= MAX_BYTES else None
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise LaunchError(f"The platform's answer from {url} is not a JSON object.",
                          code="registration_bad_json")
    return data


def _check_allowed(config_url: str) -> None:
    parsed = urlparse(config_url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise LaunchError("openid_configuration must be an http(s) URL.", code="registration_bad_request")
    allowed = current_app.config.get("GRADELOOP_REGISTRATION_ORIGINS")
    if allowed and origin(config_url) not in allowed:
        raise LaunchError(f"Registrations from {origin(config_url)} are not allowed on this Gradeloop "
                          f"(GRADELOOP_REGISTRATION_ORIGINS).", status=403, code="registration_forbidden")


def fetch_openid_configuration(config_url: str, token: str | None) -> dict:
    config = _http("GET", config_url, token)
    issuer = config.get("issuer")
    if not isinstance(issuer, str) or origin(issuer) != origin(config_url):
        raise LaunchError(f"The platform's issuer {issuer!r} does not match the origin of its "
                          f"configuration URL {config_url}.", code="registration_bad_issuer")
    missing = [k for k in ("registration_endpoint", "authorization_endpoint", "token_endpoint", "jwks_uri")
               if not isinstance(config.get(k), str)]
    if missing:
        raise LaunchError(f"The platform's OpenID configuration lacks {', '.join(missing)}.",
                          code="registration_incomplete")
    return config


def tool_registration(config: dict) -> dict:
    """The client registration we send (OIDC dynamic client registration + LTI tool claim)."""
    launch = public_url("lti.launch")
    family = (config.get(PLATFORM_CONFIG) or {}).get("product_family_code", "")
    if family == "canvas":
        picker = ["https://canvas.instructure.com/lti/assignment_selection",
                  "https://canvas.instructure.com/lti/link_selection"]
    else:
        picker = ["ContentArea"]
    supported = set(config.get("scopes_supported") or SCOPES)
    return {
        "application_type": "web",
        "response_types": ["id_token"],
        "grant_types": ["implicit", "client_credentials"],
        "initiate_login_uri": public_url("lti.login"),
        "redirect_uris": [launch],
        "client_name": TITLE,
        "jwks_uri": public_url("lti.jwks"),
        "token_endpoint_auth_method": "private_key_jwt",
        "scope": " ".join(s for s in SCOPES if s in supported),
        TOOL_CONFIG: {
            "domain": urlparse(public_base()).netloc,
            "description": DESCRIPTION,
            "target_link_uri": launch,
            "claims": ["iss", "sub", "name", "given_name", "family_name", "email"],
            "messages": [
                {"type": "LtiResourceLinkRequest", "target_link_uri": launch, "label": TITLE},
                {"type": "LtiDeepLinkingRequest", "target_link_uri": launch, "label": f"{TITLE} essay",
                 "placements": picker, "supported_types": ["ltiResourceLink"]},
            ],
        },
    }


def register(config_url: str, token: str | None):
    _check_allowed(config_url)
    config = fetch_openid_configuration(config_url, token)
    answer = _http("POST", config["registration_endpoint"], token, json=tool_registration(config))
    client_id = answer.get("client_id")
    if not client_id:
        raise LaunchError("The platform accepted the registration but returned no client_id.",
                          code="registration_no_client")
    deployment = (answer.get(TOOL_CONFIG) or {}).get("deployment_id")
    family = (config.get(PLATFORM_CONFIG) or {}).get("product_family_code")
    try:
        platform = upsert_platform(
            issuer=config["issuer"], client_id=str(client_id),
            deployment_ids=[str(deployment)] if deployment else [],
            auth_login_url=config["authorization_endpoint"], auth_token_url=config["token_endpoint"],
            key_set_url=config["jwks_uri"], name=family or "",
            auth_audience=config.get("authorization_server"), product_family=family)
    except ValueError as exc:
        raise LaunchError(f"The platform's configuration cannot be stored: {exc}",
                          code="registration_invalid") from exc
    framing.forget()
    registry.forget()
    return platform


def register_view():
    config_url = request.values.get("openid_configuration")
    if not config_url:
        raise LaunchError("This is Gradeloop's LTI Dynamic Registration URL: open it from your LMS "
                          "(it must send openid_configuration).", code="registration_bad_request")
    platform = register(config_url, request.values.get("registration_token"))
    response = make_response(render_template("lti/registered.html", platform=platform))
    # The LMS shows this page in its own admin UI before it is a registered platform.
    response.headers["Content-Security-Policy"] = "frame-ancestors *"
    return response
