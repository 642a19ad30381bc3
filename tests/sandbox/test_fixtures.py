"""The shared fixtures themselves: the real tool over HTTP, the peer registered in its database,
and a launch that goes through the real tool's /lti/login and reaches its /lti/launch."""
from __future__ import annotations

import requests

from lti_app.extensions import db
from lti_app.models import Platform


def test_tool_server_serves_the_real_app_and_peer_is_registered(tool_server, peer):
    assert tool_server.url.startswith("http://localhost:") and peer.url.startswith("http://127.0.0.1:")
    assert requests.get(tool_server.url + "/healthz", timeout=5).json()["status"] == "ok"
    with tool_server.app.app_context():
        platform = db.session.scalar(db.select(Platform).filter_by(issuer=peer.issuer))
        assert platform.client_id == peer.client_id
        assert platform.auth_login_url == peer.state.auth_url and platform.key_set_url == peer.state.jwks_url
        assert platform.auth_token_url == peer.state.token_url
        assert [d.deployment_id for d in platform.deployments] == [peer.deployment_id]


def test_launch_goes_through_the_real_tool_login(peer):
    result = peer.launch(follow_redirects=False)
    assert result.login_response.history, "the tool's /lti/login should redirect to the peer's auth endpoint"
    assert result.auth_response.url.startswith(peer.state.auth_url)
    assert result.reached_launch and result.response.url == peer.state.tool.launch_url
    assert peer.decode_unverified(result.id_token)["nonce"] == result.claims["nonce"]


def test_peers_reuse_the_session_key_pool(make_peer, tool_server):
    """Start-up stays fast because RSA keys are generated once per session, not per peer."""
    first, second = make_peer(), make_peer(client_id="second-client")
    assert first.keys.current.private_key is second.keys.current.private_key
    assert first.issuer != second.issuer
