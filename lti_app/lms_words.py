"""How pages name the LMS to students. Grade 6-12 students do not say "the LMS": they say
"Canvas" or "Moodle", or "my course page". A platform's product family comes from its
registration or its signed launches (`Platform.product_family`, from the `tool_platform` claim's
`product_family_code`); a family we do not know by name, or none, reads "your course page".
Teachers' pages may keep "LMS"."""
from __future__ import annotations

from flask import request, session
from sqlalchemy.exc import SQLAlchemyError

from lti_app import auth
from lti_app.extensions import db
from lti_app.models import Platform

PRODUCT_NAMES = {"canvas": "Canvas", "moodle": "Moodle"}


def product_name(platform_id: int | None) -> str:
    """"Canvas", "Moodle", or "" when the platform's product is unknown."""
    try:
        platform = db.session.get(Platform, platform_id) if platform_id else None
    except SQLAlchemyError:   # the session-ended page must not become a 500 while the database is down
        db.session.rollback()
        return ""
    return PRODUCT_NAMES.get((platform.product_family or "").lower(), "") if platform else ""


def course_page(platform_id: int | None) -> str:
    """Where the student goes back to: "your course in Canvas", else "your course page"."""
    name = product_name(platform_id)
    return f"your course in {name}" if name else "your course page"


def ended_session_platform() -> int | None:
    """The platform of this request's launch, live or ended: a session that ended still names its
    platform in its signed token (`lt`, in the form) or in the cookie's last launch; both are
    signed by us, so the id is ours. None when neither came."""
    live = auth.current_launch()
    if live is not None:
        return live.platform_id
    for raw in request.values.getlist(auth.TOKEN_PARAM):
        # No max age: the launch's own `expires_at` says it ended, and that is the point here.
        if (platform_id := auth.token_platform(raw)) is not None:
            return platform_id
    latest = session.get(auth.SESSION_KEY)
    return latest.get("platform_id") if isinstance(latest, dict) else None
