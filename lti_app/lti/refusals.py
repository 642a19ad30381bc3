"""One log line per refused LTI request (login, launch, registration).

The refusal page is shown in the LMS's iframe to whoever launched, and the access log has only
a 400: an LMS administrator with a wrong deployment id needed Gradeloop's administrator to find
out which one was sent. The line names the refusal code and the issuer, client id and deployment
id as the request stated them; never a name, e-mail, login hint or token.

Those values are unverified (a refused token may be anyone's), so each is cut short and written
with `repr`: a newline in a forged claim cannot start a second, genuine-looking log line.
"""
from __future__ import annotations

import logging

import jwt
from flask import request

from lti_app.extensions import db
from lti_app.lti import claims as C
from lti_app.lti.errors import LaunchError
from lti_app.models import LoginState

log = logging.getLogger(__name__)

MAX_VALUE = 200
EVENTS = {"lti.login": ("launch_refused", "login"), "lti.launch": ("launch_refused", "launch"),
          "lti.register": ("registration_refused", "register")}


def _value(value) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int)) or value == "":
        return "-"
    return repr(str(value)[:MAX_VALUE])


def _unverified_claims(id_token: str | None) -> dict:
    """The token's payload without checking anything: only to name the sender in the log."""
    try:
        body = jwt.decode(id_token or "", options={"verify_signature": False})
    except (jwt.InvalidTokenError, ValueError, TypeError):
        return {}
    return body if isinstance(body, dict) else {}


def _login_params() -> dict:
    """The login's parameters: this request's, or at the launch those its state stored (an OIDC
    error response or an unreadable token carries no issuer of its own)."""
    if request.endpoint == "lti.login":
        return request.values
    state = (request.form.get("state") or "")[:128]
    if not state:
        return {}
    params = db.session.scalar(db.select(LoginState.login_params).where(LoginState.state == state))
    return params if isinstance(params, dict) else {}


def _sender() -> dict:
    params = _login_params()
    body = _unverified_claims(request.form.get("id_token")) if request.endpoint == "lti.launch" else {}
    aud = body.get("aud")
    client_id = body.get("azp") or (aud[0] if isinstance(aud, list) and aud else aud)
    return {"issuer": body.get("iss") or params.get("iss"),
            "client_id": client_id or params.get("client_id"),
            "deployment_id": body.get(C.DEPLOYMENT_ID) or params.get("lti_deployment_id")}


def log_refusal(exc: LaunchError) -> None:
    event, step = EVENTS.get(request.endpoint, ("lti_refused", str(request.endpoint)))
    if step not in ("login", "launch"):
        # A registration's URLs carry the registration token; they are logged without it where
        # the fetch fails (registration_fetch.loggable_url).
        log.warning("event=%s step=%s code=%s status=%s", event, step, exc.code, exc.status)
        return
    sender = _sender()
    log.warning("event=%s step=%s code=%s status=%s issuer=%s client_id=%s deployment_id=%s", event, step,
                exc.code, exc.status, *(_value(sender[k]) for k in ("issuer", "client_id", "deployment_id")))
