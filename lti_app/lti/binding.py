"""The browser-binding cookie: a random value set at login whose hash the LoginState keeps.

Over HTTPS it is `SameSite=None; Secure; Partitioned` so it comes back inside the LMS iframe
(and, partitioned under the LMS site, even where third-party cookies are blocked); over plain
HTTP (development) browsers refuse such cookies, so it is `Lax`.
"""
from __future__ import annotations

import secrets

from flask import request

from lti_app.lti.urls import served_over_https

COOKIE = "gradeloop_lti_browser"
MAX_AGE_S = 7 * 24 * 3600


def current_secret() -> str | None:
    value = request.cookies.get(COOKIE)
    return value if value and 20 <= len(value) <= 100 else None


def secret_for_login() -> str:
    """Reuse this browser's value, so two launches started in two tabs both succeed."""
    return current_secret() or secrets.token_urlsafe(32)


def set_cookie(response, secret: str) -> None:
    https = served_over_https()
    # Under the mount path when the app is served below one (lti_app.path_prefix).
    response.set_cookie(COOKIE, secret, max_age=MAX_AGE_S, path=request.script_root + "/lti/", httponly=True,
                        secure=https, samesite="None" if https else "Lax", partitioned=https)


def storage_key(state: str) -> str:
    """Platform-storage key holding the binding value of one login (keyed by its state)."""
    return f"gradeloop_binding_{state}"
