"""Helpers for the LTI launch tests: the refusal assertions every rejected launch shares, and a
spy that counts the tool's real JWKS fetches (the real fetch still runs)."""
from __future__ import annotations

import html

import pytest

from lti_app.extensions import db
from lti_app.models import CourseRole, User

SESSION_COOKIE = "gradeloop_session"


@pytest.fixture(autouse=True)
def _no_jwks_cooldown(request):
    """Launches in a test follow each other within milliseconds; the refetch cooldown (there
    to protect platforms from junk kids) would hide the rotation behaviour under test."""
    if "tool_server" in request.fixturenames:
        request.getfixturevalue("tool_server").app.config["GRADELOOP_JWKS_REFETCH_COOLDOWN"] = 0


@pytest.fixture
def jwks_fetches(monkeypatch):
    """List of key-set URLs the tool fetched during the test."""
    from lti_app.lti import jwks_cache

    calls: list[str] = []
    real = jwks_cache.fetch_key_set

    def counting(url):
        calls.append(url)
        return real(url)

    monkeypatch.setattr(jwks_cache, "fetch_key_set", counting)
    return calls


def page_text(response) -> str:
    return html.unescape(response.text if hasattr(response, "text") else response.get_data(as_text=True))


def set_cookie_headers(response) -> list[str]:
    """Set-Cookie headers of a requests response (and its redirects) or a Flask test response."""
    if not hasattr(response, "raw"):
        return response.headers.getlist("Set-Cookie")
    headers = []
    for r in [*response.history, response]:
        headers += r.raw.headers.getlist("Set-Cookie")
    return headers


def assert_refused(response, words: str, *, status: int | None = None,
                   existing_session: str | None = None) -> None:
    """A 4xx page that names the problem, and no new session handed out (a browser that already
    had one may get the same cookie refreshed, never a different one)."""
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:500])
    if status:
        assert response.status_code == status
    assert words.lower() in page_text(response).lower(), page_text(response)[:1500]
    for header in set_cookie_headers(response):
        if header.startswith(SESSION_COOKIE + "="):
            value = header.split(";")[0].split("=", 1)[1]
            assert existing_session and session_payload(value) == session_payload(existing_session), header


def session_payload(cookie: str) -> str:
    """The signed session cookie without its timestamp and signature: Flask re-signs a permanent
    session on every response, so the same session crosses a second boundary as another string."""
    return cookie.rsplit(".", 2)[0]


def assert_no_session(browser, tool_server) -> None:
    """The browser holds no tool session: no cookie, and the landing pages answer 401."""
    assert SESSION_COOKIE not in browser.cookies
    for path in ("/lti/instructor", "/lti/learner"):
        assert browser.get(tool_server.url + path, timeout=30).status_code == 401


def count_users(tool_server) -> tuple[int, int]:
    with tool_server.app.app_context():
        return (db.session.scalar(db.select(db.func.count()).select_from(User)),
                db.session.scalar(db.select(db.func.count()).select_from(CourseRole)))
