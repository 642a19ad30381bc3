"""How pages and exports print a moment: a <time> element holding the instant in UTC, with UTC words
that gradeloop.js rewrites into the reader's own time zone (without script the UTC words stay, still
right), and ISO 8601 with its UTC offset for JSON and CSV."""
from __future__ import annotations

from datetime import datetime, timezone

from flask import Flask
from markupsafe import Markup, escape


def as_utc(moment: datetime) -> datetime:
    """The stored instant, aware, in UTC. SQLite gives stored times back naive (they are written in
    UTC: models.base.utcnow), PostgreSQL aware in the connection's zone: both are the instant they are."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def utc_iso(moment: datetime | None) -> str | None:
    """`2026-11-28T03:24:00.123456+00:00` for JSON and CSV, the same on SQLite and PostgreSQL (a
    naive time in an export reads as the reader's local time), or None."""
    return None if moment is None else as_utc(moment).isoformat()


def time_tag(moment: datetime | None, missing: str = "") -> Markup:
    """`<time datetime="2026-11-28T03:24:00Z">2026-11-28 03:24 UTC</time>`, or `missing` for None."""
    if moment is None:
        return escape(missing)
    moment = as_utc(moment)
    return Markup('<time datetime="{}">{} UTC</time>').format(moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
                                                             moment.strftime("%Y-%m-%d %H:%M"))


def init_app(app: Flask) -> None:
    app.jinja_env.filters["time_tag"] = time_tag
