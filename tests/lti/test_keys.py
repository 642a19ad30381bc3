"""The tool's own keys (generated once, 0600, JWKS with current + next, CLI rotation) and the
platform's key rotation seen from the tool (one JWKS refetch, then the launch succeeds)."""
from __future__ import annotations

import stat

import jwt

from lti_app.lti import keys
from lti_app.lti.tool_conf import public_pem, registration_for
from tests.lti.conftest import page_text


def test_key_is_created_once_private_and_published(app):
    with app.app_context():
        kid = keys.current_kid()
        folder = keys.keys_dir()
        pem = (folder / "current.pem")
        assert stat.S_IMODE(pem.stat().st_mode) == 0o600
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
        keys.ensure_keys()
        assert keys.current_kid() == kid          # not regenerated
    body = app.test_client().get("/lti/jwks").get_json()
    assert [k["kid"] for k in body["keys"]] == [kid]
    assert body["keys"][0]["alg"] == "RS256" and "d" not in body["keys"][0]


def test_key_is_created_at_start_outside_tests(make_app):
    app = make_app(env="development")
    with app.app_context():
        assert (keys.keys_dir() / "current.pem").exists()


def test_kid_is_the_thumbprint_pylti1p3_computes(app):
    from pylti1p3.registration import Registration

    with app.app_context():
        assert Registration.get_jwk(public_pem(keys.tool_private_key()))["kid"] == keys.current_kid()


def test_rotation_publishes_next_then_promotes(app):
    runner = app.test_cli_runner()
    client = app.test_client()
    with app.app_context():
        first = keys.current_kid()
    out = runner.invoke(args=["keys", "rotate", "--prepare"])
    assert out.exit_code == 0, out.output
    published = [k["kid"] for k in client.get("/lti/jwks").get_json()["keys"]]
    assert published[0] == first and len(published) == 2
    nxt = published[1]
    out = runner.invoke(args=["keys", "rotate", "--promote"])
    assert out.exit_code == 0, out.output
    with app.app_context():
        assert keys.current_kid() == nxt
        token = jwt.encode({"sub": "x"}, keys.tool_private_key(), algorithm="RS256",
                           headers={"kid": keys.current_kid()})
    published = client.get("/lti/jwks").get_json()["keys"]
    assert [k["kid"] for k in published] == [nxt, first]     # old key kept as previous
    jwk = next(k for k in published if k["kid"] == nxt)
    assert jwt.decode(token, jwt.PyJWK(jwk).key, algorithms=["RS256"])["sub"] == "x"
    assert runner.invoke(args=["keys", "rotate", "--promote"]).exit_code != 0   # nothing to promote


def test_platform_key_rotation_refetches_once(peer, tool_server, jwks_fetches):
    assert peer.launch().response.status_code == 200
    assert peer.launch(user_id="t2").response.status_code == 200
    assert len(jwks_fetches) == 1                      # cached on the Platform row
    old_kid = peer.kid
    new_kid = peer.rotate_keys(keep_old_seconds=0)
    assert new_kid != old_kid
    result = peer.launch(user_id="t3")
    assert result.response.status_code == 200, page_text(result.response)[:500]
    assert len(jwks_fetches) == 2                      # exactly one refetch for the new kid
    assert peer.launch(user_id="t4").response.status_code == 200
    assert len(jwks_fetches) == 2


def test_deep_link_response_is_signed_with_the_published_key(peer, tool_server):
    """What the coursework feature will send: pylti1p3 DeepLink signed with our current key."""
    from lti_app.extensions import db
    from lti_app.lti.deep_linking_state import deep_link_for
    from lti_app.models import DeepLinkingRequest, Platform
    from pylti1p3.deep_link_resource import DeepLinkResource

    peer.deep_link()
    with tool_server.app.app_context():
        row = db.session.scalar(db.select(DeepLinkingRequest))
        token = deep_link_for(row.launch_id).get_response_jwt(
            [DeepLinkResource().set_url(tool_server.url + "/lti/launch").set_title("Essay 1")])
        platform = db.session.get(Platform, row.platform_id)
        assert registration_for(platform).get_kid() == keys.current_kid()
    jwks = peer.browser().get(tool_server.url + "/lti/jwks", timeout=30).json()
    kid = jwt.get_unverified_header(token)["kid"]
    key = jwt.PyJWK(next(k for k in jwks["keys"] if k["kid"] == kid)).key
    body = jwt.decode(token, key, algorithms=["RS256"], audience=peer.issuer)
    assert body["iss"] == peer.client_id
    assert body["https://purl.imsglobal.org/spec/lti/claim/message_type"] == "LtiDeepLinkingResponse"
    with tool_server.app.app_context():
        assert deep_link_for("missing") is None
