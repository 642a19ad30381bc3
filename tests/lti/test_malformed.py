"""Malformed input to the LTI endpoints: always a 4xx page in words, never a 500."""
from __future__ import annotations

import base64
import json

import pytest

from tests.lti.conftest import page_text


def _b64(obj) -> str:
    raw = obj if isinstance(obj, bytes) else json.dumps(obj).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


TOKENS = {
    "two parts": "abc.def",
    "empty parts": "..",
    "header not base64": "%%%.e30.sig",
    "header not JSON": f"{_b64(b'not json')}.e30.sig",
    "header a JSON list": f"{_b64([1, 2])}.e30.sig",
    "kid a list": f"{_b64({'alg': 'RS256', 'kid': ['x']})}.{_b64({'iss': 'x'})}.c2ln",
    "payload not JSON": f"{_b64({'alg': 'RS256', 'kid': 'k'})}.{_b64(b'[')}.c2ln",
    "huge": "a" * 500_000 + ".b.c",
}


@pytest.mark.parametrize("name", list(TOKENS))
def test_malformed_id_token_is_a_4xx(peer, tool_server, name):
    result = peer.launch(id_token=TOKENS[name])
    assert 400 <= result.response.status_code < 500, page_text(result.response)[:500]
    assert "id_token" in page_text(result.response) or "key" in page_text(result.response)


@pytest.mark.parametrize("form", [
    {"state": "x" * 5000, "id_token": "a.b.c"},
    {"state": ["a", "b"], "id_token": "a.b.c"},
    {"error": "<script>alert(1)</script>"},
    {},
])
def test_malformed_launch_form_is_a_4xx(tool_server, peer, form):
    response = peer.browser().post(tool_server.url + "/lti/launch", data=form, timeout=30)
    assert 400 <= response.status_code < 500
    assert "<script>alert(1)</script>" not in response.text


@pytest.mark.parametrize("query", [
    {"iss": "x" * 3000, "login_hint": "u", "target_link_uri": "x"},
    {"iss": "", "login_hint": "", "target_link_uri": ""},
    {"iss": "http://[::1", "login_hint": "u", "target_link_uri": "http://[::1"},
])
def test_malformed_login_is_a_4xx(tool_server, peer, query):
    response = peer.browser().get(tool_server.url + "/lti/login", params=query, allow_redirects=False, timeout=30)
    assert response.status_code == 400, response.text[:300]
