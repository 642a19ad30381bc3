"""Which sites may frame Gradeloop: the registered platforms' origins (issuer and auth URL).

Computed from the database and cached briefly per process, so each response does not query;
`GRADELOOP_FRAME_ANCESTORS` (a list) overrides it.
"""
from __future__ import annotations

import time

from flask import current_app

from lti_app.extensions import db
from lti_app.lti.urls import origin
from lti_app.models import Platform

CACHE_S = 30.0
_cache: dict[str, tuple[float, list[str]]] = {}


def platform_origins() -> list[str]:
    key = current_app.config["SQLALCHEMY_DATABASE_URI"]
    hit = _cache.get(key)
    if hit and time.monotonic() - hit[0] < CACHE_S:
        return hit[1]
    rows = db.session.execute(db.select(Platform.issuer, Platform.auth_login_url)).all()
    found = sorted({o for row in rows for o in (origin(row[0]), origin(row[1])) if o})
    _cache[key] = (time.monotonic(), found)
    return found


def forget() -> None:
    """Call after registering a platform so it can frame us at once."""
    _cache.clear()


def frame_ancestors() -> list[str]:
    configured = current_app.config.get("GRADELOOP_FRAME_ANCESTORS")
    if configured:
        return list(configured)
    return ["'self'", *platform_origins()]
