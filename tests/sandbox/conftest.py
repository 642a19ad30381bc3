"""Fixtures for testing the peer itself: `fake_peer` is a sandbox platform wired to the small
fake tool in fake_tool.py (served over real HTTP), so these tests do not depend on the real
tool's LTI endpoints. `make_fake_peer(**peer_kwargs)` builds more (e.g. with persist_path)."""
from __future__ import annotations

import pytest

from lti_app.sandbox.server import ServerThread
from tests.peer import Peer, ToolServer
from tests.sandbox.fake_tool import create_fake_tool


@pytest.fixture
def make_fake_peer(_peer_keys):
    running = []

    def _make(**kwargs) -> Peer:
        platform: dict = {}
        app = create_fake_tool(platform)
        server = ServerThread(app, "127.0.0.1", 0, url_host="localhost").start()
        peer = Peer(ToolServer(url=server.url, app=app, server=server), **kwargs).start()
        running.append((peer, server))
        platform.update(issuer=peer.issuer, client_id=peer.client_id, auth_url=peer.state.auth_url,
                        jwks_url=peer.state.jwks_url)
        return peer

    yield _make
    for peer, server in running:
        peer.stop()
        server.stop()


@pytest.fixture
def fake_peer(make_fake_peer):
    return make_fake_peer()
