"""One-time notices after a form is saved ("Grade saved", "the LMS did not take it: ...").

Flask's `flash` keeps them in the session cookie, which browsers drop inside a cross-site LMS
iframe over plain HTTP or with third-party cookies blocked, so the teacher would never see an LMS
error. The notice travels signed in the redirect URL instead, and expires after a few minutes.
"""
from __future__ import annotations

from flask import current_app, redirect, request
from itsdangerous import BadSignature, URLSafeTimedSerializer

from lti_app.auth import lurl

PARAM = "notice"
MAX_AGE_S = 600
CATEGORIES = ("success", "warning", "error")


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="gradeloop-notice")


def redirect_with(endpoint: str, notices: list[tuple[str, str]], **values):
    """Redirect (303) to `endpoint` carrying [(category, message), ...]."""
    values[PARAM] = _serializer().dumps([[c, m] for c, m in notices])
    return redirect(lurl(endpoint, **values), code=303)


def current() -> list[tuple[str, str]]:
    token = request.args.get(PARAM)
    if not token:
        return []
    try:
        data = _serializer().loads(token, max_age=MAX_AGE_S)
    except BadSignature:
        return []
    return [(c, str(m)) for c, m in data if c in CATEGORIES]
