"""Platform signing keys: the cached JWKS has a maximum age (a key the platform withdrew stops
working), a failed refetch falls back to the cached keys for a grace period, a new key set URL
drops the cache, and `gradeloop platform refresh-keys` fetches on demand."""
from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone

import pytest

from lti_app.extensions import db
from lti_app.lti import jwks_cache, registry
from lti_app.lti.errors import LaunchError
from lti_app.models import Platform
from lti_app.platforms import upsert_platform
from lti_app.sandbox.keys import KeyRing
from tests.lti.conftest import assert_refused, page_text


def _platform(tool_server, peer) -> Platform:
    return db.session.scalar(db.select(Platform).filter_by(issuer=peer.issuer, client_id=peer.client_id))


def age_keys(tool_server, peer, seconds: float) -> None:
    """Pretend the cached key set was fetched `seconds` ago."""
    with tool_server.app.app_context():
        _platform(tool_server, peer).key_set_fetched_at = datetime.now(timezone.utc) - timedelta(seconds=seconds)
        db.session.commit()
    registry.forget()


def sign_with(peer, leaked) -> None:
    """From now on the peer's launches are signed with `leaked` (a key it no longer publishes)."""
    peer.keys.sign = lambda claims, **kw: KeyRing.sign(peer.keys, claims, kid=leaked.kid, key=leaked.private_key)


def unreachable_key_set(monkeypatch) -> list[str]:
    """From now on the platform's key set URL does not answer; returns the list of fetch attempts."""
    attempts: list[str] = []

    def unreachable(url):
        attempts.append(url)
        raise LaunchError("connection refused", code="jwks_unavailable")

    monkeypatch.setattr(jwks_cache, "fetch_key_set", unreachable)
    return attempts


@pytest.mark.parametrize("header, seconds", [
    (None, 86400), ("max-age=3600", 3600), ("public, max-age=60", 300), ("no-store", 300),
    ("max-age=31536000", 86400), ('max-age="7200"', 7200), ("junk", 86400),
])
def test_max_age_honours_cache_control_within_floor_and_cap(app, header, seconds):
    with app.app_context():
        assert jwks_cache.cache_max_age(header) == seconds


def test_a_key_the_platform_withdrew_stops_working_after_the_max_age(peer, tool_server, jwks_fetches):
    assert peer.launch().response.status_code == 200
    assert len(jwks_fetches) == 1
    with tool_server.app.app_context():
        assert _platform(tool_server, peer).key_set_max_age == 300   # the peer says max-age=60: floored
    leaked = peer.keys.current
    peer.rotate_keys(keep_old_seconds=0)         # the platform withdraws the key...
    sign_with(peer, leaked)                       # ...which someone still holds
    age_keys(tool_server, peer, 200)
    assert peer.launch(user_id="t2").response.status_code == 200   # within the max age: cached set
    assert len(jwks_fetches) == 1
    age_keys(tool_server, peer, 301)
    result = peer.launch(user_id="t3")
    assert_refused(result.response, "which the platform does not publish")
    assert len(jwks_fetches) >= 2
    del peer.keys.sign                            # the platform signs with its current key again
    assert peer.launch(user_id="t4").response.status_code == 200


def test_a_failed_refetch_keeps_the_cached_keys_for_a_grace_period(peer, tool_server, monkeypatch, caplog):
    assert peer.launch().response.status_code == 200
    attempts = unreachable_key_set(monkeypatch)
    age_keys(tool_server, peer, 3600)             # past its max age (5 min), within the 24 h grace
    with caplog.at_level(logging.WARNING, logger="lti_app.lti.jwks_cache"):
        result = peer.launch(user_id="t2")
        assert result.response.status_code == 200, page_text(result.response)[:500]
        assert peer.launch(user_id="t3").response.status_code == 200
    assert len(attempts) == 1                     # one retry per minute per process, not per launch
    assert any("refetching it failed" in r.getMessage() for r in caplog.records)
    age_keys(tool_server, peer, 300 + 86400 + 10)   # past max age + grace: not trusted any more
    assert_refused(peer.launch(user_id="t4").response, "too old to trust")


def test_a_new_key_set_url_drops_the_cached_keys(peer, tool_server):
    assert peer.launch().response.status_code == 200
    registration = peer.registration()
    with tool_server.app.app_context():
        upsert_platform(**registration)           # same URL: kept
        assert _platform(tool_server, peer).key_set is not None
        upsert_platform(**{**registration, "key_set_url": peer.url + "/jwks?v=2"})
        platform = _platform(tool_server, peer)
        assert platform.key_set is None and platform.key_set_fetched_at is None
    assert peer.launch(user_id="t2").response.status_code == 200


def test_refresh_keys_command(peer, tool_server, jwks_fetches):
    from lti_app.cli import main

    runner = tool_server.app.test_cli_runner()
    out = runner.invoke(main, ["platform", "refresh-keys"])
    assert out.exit_code == 0, out.output
    assert peer.kid in out.output and len(jwks_fetches) == 1
    new_kid = peer.rotate_keys()
    with tool_server.app.app_context():
        platform_id = _platform(tool_server, peer).id
    out = runner.invoke(main, ["platform", "refresh-keys", str(platform_id)])
    assert out.exit_code == 0 and new_kid in out.output and len(jwks_fetches) == 2
    out = runner.invoke(main, ["platform", "refresh-keys", "999"])
    assert out.exit_code == 1 and "no platform 999" in out.output


def test_the_key_set_fetch_follows_no_redirect(app):
    """Registration checked that the key set URL is a public address; a redirect from it must not
    send each launch's key fetch somewhere else (an internal address: blind SSRF)."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    hits = []

    class Answer(BaseHTTPRequestHandler):
        def do_GET(self):
            hits.append(self.path)
            if self.path == "/jwks":
                self.send_response(302)
                self.send_header("Location", "/internal/metadata")
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"keys": []}')

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Answer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with app.app_context(), pytest.raises(LaunchError) as refused:
            jwks_cache.fetch_key_set(f"http://127.0.0.1:{server.server_port}/jwks")
    finally:
        server.shutdown()
    assert refused.value.code == "jwks_unavailable" and "redirect" in str(refused.value)
    assert hits == ["/jwks"], "the redirect's target was not fetched"


def test_unknown_kids_do_not_refetch_a_failing_key_set_on_every_launch(peer, tool_server, monkeypatch):
    """While the platform's key endpoint fails, launches naming a kid we do not know (junk, or a
    real rotation) each wanted a fetch, holding a web worker for its timeout: one per minute."""
    assert peer.launch().response.status_code == 200
    attempts = unreachable_key_set(monkeypatch)
    tool_server.app.config["GRADELOOP_JWKS_REFETCH_COOLDOWN"] = 0
    peer.rotate_keys()                                # launches now name a kid we have not seen
    assert_refused(peer.launch(user_id="t2").response, "connection refused")
    assert_refused(peer.launch(user_id="t3").response, "a moment ago")
    assert len(attempts) == 1
    monkeypatch.undo()
    tool_server.app.config["GRADELOOP_JWKS_RETRY_AFTER_FAILURE"] = 0   # the minute has passed
    assert peer.launch(user_id="t4").response.status_code == 200


def test_fetching_a_rotated_key_set_does_not_hold_up_other_writers(peer, tool_server, monkeypatch):
    """A launch has consumed its login state (a write) when it meets an unknown key id. On the
    embedded SQLite that held the database's one write lock while it waited for the platform's key
    endpoint, so every other launch, hand-in and save waited behind a slow LMS."""
    import threading
    import time

    from tests.sqlite_writers import writes_refused_while

    assert peer.launch().response.status_code == 200
    real = jwks_cache.fetch_key_set

    def slow_key_endpoint(url):
        time.sleep(1.5)
        return real(url)

    monkeypatch.setattr(jwks_cache, "fetch_key_set", slow_key_endpoint)
    tool_server.app.config["GRADELOOP_JWKS_REFETCH_COOLDOWN"] = 0.0
    peer.rotate_keys(keep_old_seconds=0)   # the next launch names a kid the tool has not seen
    db_path = tool_server.app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")
    launched = {}
    launching = threading.Thread(target=lambda: launched.setdefault("r", peer.launch(user_id="t2")))
    refused = writes_refused_while(launching, db_path)
    assert launched["r"].response.status_code == 200
    assert refused == []
