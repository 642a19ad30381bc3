"""Which sites may frame Gradeloop: the registered platforms' origins (issuer and auth URL).

Canvas cloud is the exception: its issuer is https://canvas.instructure.com (or canvas.beta /
canvas.test) and its auth URL https://sso.canvaslms.com, but each school's course pages are on
its own https://<school>.instructure.com, so those origins alone made browsers refuse every Canvas
launch in its iframe. A platform on instructure.com therefore also allows
https://*.instructure.com; a school on its own vanity domain sets GRADELOOP_FRAME_ANCESTORS.

Computed from the database and cached briefly per process, so each response does not query;
`GRADELOOP_FRAME_ANCESTORS` (a list) overrides it.
"""
from __future__ import annotations

import time
from urllib.parse import urlparse

from flask import current_app

from lti_app.extensions import db
from lti_app.lti.urls import origin
from lti_app.models import Platform

CACHE_S = 30.0
# host suffix of a hosted LMS -> the CSP source that covers every school on it
HOSTED_FAMILIES = {".instructure.com": "https://*.instructure.com"}
_cache: dict[str, tuple[float, list[str]]] = {}


def platform_origins() -> list[str]:
    key = current_app.config["SQLALCHEMY_DATABASE_URI"]
    hit = _cache.get(key)
    if hit and time.monotonic() - hit[0] < CACHE_S:
        return hit[1]
    # A disabled platform's pages may no longer frame the tool (`gradeloop platform disable`).
    rows = db.session.execute(db.select(Platform.issuer, Platform.auth_login_url)
                              .where(Platform.disabled_at.is_(None))).all()
    found = ancestors_for([url for row in rows for url in row])
    _cache[key] = (time.monotonic(), found)
    return found


def ancestors_for(urls) -> list[str]:
    """CSP sources for the platforms' URLs: their origins, plus a hosted LMS's whole domain."""
    found = {o for o in map(origin, urls) if o}
    hosted = {source for o in found if o.startswith("https://") for suffix, source in HOSTED_FAMILIES.items()
              if (urlparse(o).hostname or "").endswith(suffix)}
    return sorted(found | hosted)


def forget() -> None:
    """Call after registering a platform so it can frame us at once."""
    _cache.clear()


def frame_ancestors() -> list[str]:
    configured = current_app.config.get("GRADELOOP_FRAME_ANCESTORS")
    if configured:
        return list(configured)
    return ["'self'", *platform_origins()]
