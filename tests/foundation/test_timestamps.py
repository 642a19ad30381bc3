"""Pages print a moment as a <time> element with the UTC instant and UTC words (lti_app.timestamps),
which the page's script turns into the reader's own time zone; nothing else prints times."""
from datetime import datetime, timedelta, timezone

from markupsafe import Markup

from lti_app.timestamps import time_tag, utc_iso

HANDED_IN = '<time datetime="2026-11-28T03:24:05Z">2026-11-28 03:24 UTC</time>'


def test_a_stored_time_is_printed_as_its_utc_instant():
    assert time_tag(datetime(2026, 11, 28, 3, 24, 5, 918_000)) == HANDED_IN   # SQLite: naive, UTC
    berlin = timezone(timedelta(hours=1))   # PostgreSQL: aware, in the connection's zone
    assert time_tag(datetime(2026, 11, 28, 4, 24, 5, tzinfo=berlin)) == HANDED_IN
    assert isinstance(time_tag(datetime(2026, 11, 28)), Markup)


def test_no_time_prints_the_pages_own_word_escaped():
    assert time_tag(None) == ""
    assert time_tag(None, "—") == "—"
    assert time_tag(None, "<never>") == "&lt;never&gt;"


def test_the_filter_is_registered_and_not_escaped_twice(app):
    template = app.jinja_env.from_string("{{ moment|time_tag('never') }}")
    assert template.render(moment=datetime(2026, 11, 28, 3, 24, 5)) == HANDED_IN
    assert template.render(moment=None) == "never"
    assert app.jinja_env.from_string("{{ moment|time_tag('<—>') }}").render(moment=None) == "&lt;—&gt;"


def test_exports_write_the_instant_with_its_utc_offset():
    berlin = timezone(timedelta(hours=1))
    assert utc_iso(datetime(2026, 11, 28, 3, 24, 5)) == "2026-11-28T03:24:05+00:00"   # SQLite: naive, UTC
    assert utc_iso(datetime(2026, 11, 28, 4, 24, 5, tzinfo=berlin)) == "2026-11-28T03:24:05+00:00"
    assert utc_iso(None) is None
