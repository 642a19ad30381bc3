"""`/lti/login`: OIDC third-party initiated login (LTI 1.3 step one).

Finds the platform (iss, plus client_id when sent), stores a `LoginState` (state + nonce)
bound to this browser, and sends the browser to the platform's auth endpoint. With
`lti_storage_target` the binding value also goes into LTI platform storage (postMessage),
for browsers that refuse our cookie inside the LMS iframe.
"""
from __future__ import annotations

import secrets
from urllib.parse import parse_qsl, urlencode, urlparse

from flask import make_response, redirect, render_template, request, url_for

from sqlalchemy import insert

from lti_app.extensions import db
from lti_app.lti import binding, housekeeping, registry
from lti_app.lti.errors import LaunchError
from lti_app.lti.registry import PlatformInfo
from lti_app.lti.urls import launch_url, origin
from lti_app.lti.validation import binding_hash, platform_disabled
from lti_app.models import LoginState

LOGIN_PARAMS = ("iss", "login_hint", "target_link_uri", "lti_message_hint", "client_id",
                "lti_deployment_id", "lti_storage_target")


def _params() -> dict[str, str]:
    return {k: request.values[k] for k in LOGIN_PARAMS if request.values.get(k)}


def find_platform(iss: str, client_id: str | None) -> PlatformInfo:
    rows = registry.by_issuer(iss)
    if client_id and not any(p.client_id == client_id for p in rows):
        registry.forget()   # maybe registered a moment ago, in another process
        rows = registry.by_issuer(iss)
    if not rows:
        raise LaunchError(f"The platform {iss!r} is not registered with this tool. Ask your LMS "
                          f"administrator to register Gradeloop.", code="unknown_platform")
    if client_id:
        match = [p for p in rows if p.client_id == client_id]
        if not match:
            raise LaunchError(f"The platform {iss!r} is registered, but not with client id "
                              f"{client_id!r}. Check the tool's client id in the LMS.",
                              code="unknown_client_id")
        return _enabled(match[0])
    if len(rows) > 1:
        raise LaunchError(f"The platform {iss!r} is registered several times; the login must say "
                          f"which client id it is for.", code="ambiguous_platform")
    return _enabled(rows[0])


def _enabled(platform: PlatformInfo) -> PlatformInfo:
    # `gradeloop platform disable`: refused before any state is stored or the LMS is contacted.
    if platform.disabled:
        raise platform_disabled(platform)
    return platform


def _check_target(target: str) -> None:
    ours, theirs = urlparse(launch_url()), urlparse(target)
    if (theirs.scheme, theirs.netloc, theirs.path.rstrip("/")) != (ours.scheme, ours.netloc, ours.path):
        raise LaunchError(f"The target_link_uri {target!r} is not this tool's launch URL "
                          f"({launch_url()}).", code="bad_target_link_uri")


def start_login():
    params = _params()
    missing = [k for k in ("iss", "login_hint", "target_link_uri") if k not in params]
    if missing:
        raise LaunchError(f"The login request is missing {', '.join(missing)}.", code="bad_login")
    platform = find_platform(params["iss"], params.get("client_id"))
    _check_target(params["target_link_uri"])
    secret = binding.secret_for_login()
    state, nonce = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    db.session.execute(insert(LoginState).values(
        state=state, nonce=nonce, browser_binding=binding_hash(secret), platform_id=platform.id,
        target_link_uri=params["target_link_uri"][:1000], login_params=params))
    db.session.commit()
    housekeeping.after_login()
    query = {"scope": "openid", "response_type": "id_token", "response_mode": "form_post",
             "prompt": "none", "client_id": platform.client_id, "redirect_uri": launch_url(),
             "login_hint": params["login_hint"], "state": state, "nonce": nonce}
    if params.get("lti_message_hint"):
        query["lti_message_hint"] = params["lti_message_hint"]
    sep = "&" if urlparse(platform.auth_login_url).query else "?"
    auth_url = platform.auth_login_url + sep + urlencode(query)
    if params.get("lti_storage_target"):
        # A GET form drops its action's own query, so that query rides in the fields.
        action = urlparse(platform.auth_login_url)
        response = render_template("lti/login_storage.html", auth_action=action._replace(query="").geturl(),
                                   auth_fields={**dict(parse_qsl(action.query)), **query},
                                   storage_key=binding.storage_key(state),
                                   secret=secret, storage_target=params["lti_storage_target"],
                                   platform_origin=origin(platform.auth_login_url))
    else:
        response = redirect(auth_url, code=302)
    response = make_response(response)
    binding.set_cookie(response, secret)
    return response


def new_window_url(params: dict | None) -> str | None:
    """The same login, to be opened as a top-level window where our cookie is first-party."""
    if not params or "iss" not in params:
        return None
    kept = {k: v for k, v in params.items() if k != "lti_storage_target"}
    return url_for("lti.login") + "?" + urlencode(kept)
