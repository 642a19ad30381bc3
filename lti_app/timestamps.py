"""How pages print a moment: a <time> element holding the instant in UTC, with UTC words that
gradeloop.js rewrites into the reader's own time zone (without script the UTC words stay, still right)."""
from __future__ import annotations

from datetime import datetime, timezone

from flask import Flask
from markupsafe import Markup, escape


def time_tag(moment: datetime | None, missing: str = "") -> Markup:
    """`<time datetime="2026-11-28T03:24:00Z">2026-11-28 03:24 UTC</time>`, or `missing` for None.
    SQLite gives the stored times back naive (they are written in UTC: models.base.utcnow),
    PostgreSQL aware in the connection's zone: both are read as the instant they are."""
    if moment is None:
        return escape(missing)
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc)
    return Markup('<time datetime="{}">{} UTC</time>').format(moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
                                                             moment.strftime("%Y-%m-%d %H:%M"))


def init_app(app: Flask) -> None:
    app.jinja_env.filters["time_tag"] = time_tag
