"""The platform's OAuth2 token endpoint (client_credentials + JWT client assertion) and what the
AGS/NRPS endpoints share: bearer-token scope checks, JSON errors, paging with `Link: rel="next"`
and test-injected failures (`Peer.fail_next`).

lti1p3platform's `get_access_token` is not used: it checks neither iss/sub nor aud, exp or jti of
the client assertion, answers token_type "bearer" and issues self-contained JWTs that a test
cannot expire (`Peer.expire_tokens`); our tokens are opaque and kept in the state.
"""
from __future__ import annotations

import time
from urllib.parse import urlencode

from flask import Blueprint, current_app, jsonify, request

from lti_app.sandbox.state import AccessToken, PlatformState
from lti_app.sandbox.toolkeys import ToolJWTError, verify_tool_jwt

bp = Blueprint("sandbox_services", __name__)

JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
NRPS_MEDIA_TYPE = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"


class ServiceError(Exception):
    def __init__(self, status: int, message: str, error: str = "invalid_request"):
        super().__init__(message)
        self.status, self.message, self.error = status, message, error


def state() -> PlatformState:
    return current_app.extensions["sandbox_state"]


def json_response(data, *, status: int = 200, media_type: str = "application/json", headers=None):
    response = jsonify(data)
    response.status_code = status
    response.mimetype = media_type
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


@bp.app_errorhandler(ServiceError)
def _service_error(exc: ServiceError):
    headers = {}
    if exc.status == 401:
        headers["WWW-Authenticate"] = f'Bearer error="{exc.error}"'
    if exc.status == 403:
        headers["WWW-Authenticate"] = 'Bearer error="insufficient_scope"'
    return json_response({"error": exc.error, "error_description": exc.message,
                          "status": exc.status}, status=exc.status, headers=headers)


def require_token(*scopes: str) -> AccessToken:
    """The request's bearer token; 401 when missing/unknown/expired, 403 without any of `scopes`."""
    header = request.headers.get("Authorization", "")
    if not header.lower().startswith("bearer "):
        raise ServiceError(401, "an 'Authorization: Bearer <access token>' header is required", "invalid_token")
    st = state()
    with st.lock:
        token = st.tokens.get(header[7:].strip())
    if token is None:
        raise ServiceError(401, "unknown access token", "invalid_token")
    if token.expires_at < time.time():
        raise ServiceError(401, "the access token has expired", "invalid_token")
    if scopes and not token.scopes.intersection(scopes):
        raise ServiceError(403, f"the access token lacks the scope for this call (one of {', '.join(scopes)})",
                           "insufficient_scope")
    return token


def require_json(media_type: str) -> dict:
    if request.mimetype != media_type:
        raise ServiceError(415, f"Content-Type must be {media_type}, got {request.mimetype or 'none'}",
                           "unsupported_media_type")
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ServiceError(400, "the body must be a JSON object")
    return data


def page(items: list, kind: str) -> tuple[list, dict]:
    """Slice by `limit` (default: the state's small page size) and `page`; Link rel=next if more."""
    st = state()
    try:
        limit = int(request.args.get("limit") or st.page_sizes[kind])
        number = int(request.args.get("page") or 1)
    except ValueError:
        raise ServiceError(400, "limit and page must be integers") from None
    if limit < 1 or number < 1:
        raise ServiceError(400, "limit and page must be positive")
    limit = min(limit, 1000)
    start = (number - 1) * limit
    headers = {}
    if start + limit < len(items):
        args = request.args.to_dict()
        args.update(limit=str(limit), page=str(number + 1))
        headers["Link"] = f'<{st.url(request.path)}?{urlencode(args)}>; rel="next"'
    return items[start:start + limit], headers


def inject_failure(service: str):
    """Serve a failure queued by `Peer.fail_next`, if one is waiting for this service."""
    st = state()
    failure = st.take_failure(service, f"{request.method} {request.path}")
    if failure is None:
        return None
    if failure.mode == "slow":
        # A slow LMS: hold the request, then serve it as usual (wake early at shutdown).
        current_app.extensions["sandbox_stop"].wait(failure.delay)
        return None
    if failure.mode == "timeout":
        # Hold the connection so the caller's read timeout fires; wake early at shutdown.
        current_app.extensions["sandbox_stop"].wait(failure.delay)
        return json_response({"error": "timeout", "status": 504}, status=504)
    return json_response({"error": "injected failure", "status": failure.status}, status=failure.status,
                         headers={"Retry-After": "1"} if failure.status in (429, 503) else None)


@bp.before_app_request
def _record_and_fail():
    path = request.path
    if path.startswith("/api/lti/"):
        service = "nrps" if path.endswith("/memberships") else "ags"
    elif path == "/token":
        service = "token"
    else:
        return None
    st = state()
    with st.lock:
        st.service_requests.append((service, request.method, path))
        if service == "token":
            st.token_requests += 1
    return inject_failure(service)


@bp.post("/token")
def token():
    """OAuth2 client_credentials grant with a JWT client assertion (1EdTech Security Framework 4.1)."""
    st = state()
    form = request.form
    if form.get("grant_type") != "client_credentials":
        raise ServiceError(400, "grant_type must be client_credentials", "unsupported_grant_type")
    if form.get("client_assertion_type") != JWT_BEARER:
        raise ServiceError(400, f"client_assertion_type must be {JWT_BEARER}")
    if not form.get("scope"):
        raise ServiceError(400, "scope is required", "invalid_scope")
    try:
        claims = verify_tool_jwt(st, form.get("client_assertion", ""), audience=st.token_url)
    except ToolJWTError as exc:
        raise ServiceError(401, str(exc), "invalid_client") from exc
    client_id = st.tool.client_id
    if claims.get("iss") != client_id or claims.get("sub") != client_id:
        raise ServiceError(401, f"assertion iss and sub must both be the client_id {client_id!r}", "invalid_client")
    jti = claims.get("jti")
    if not jti:
        raise ServiceError(401, "assertion has no jti", "invalid_client")
    with st.lock:
        if jti in st.used_jtis:
            raise ServiceError(401, "assertion jti was already used (replay)", "invalid_client")
        st.used_jtis.add(jti)
    requested = set(form["scope"].split())
    granted = requested & set(st.tool.scopes)
    if not granted:
        raise ServiceError(400, f"none of the requested scopes is allowed: {form['scope']}", "invalid_scope")
    access = st.issue_token(client_id, granted)
    return json_response({"access_token": access.token, "token_type": "Bearer",
                          "expires_in": st.token_lifetime, "scope": " ".join(sorted(granted))},
                         headers={"Cache-Control": "no-store"})
