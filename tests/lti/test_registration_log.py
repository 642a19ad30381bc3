"""Dynamic registration never writes the registration token to the log. Canvas puts it in the
query of the `openid_configuration` URL it hands the tool
(`.../openid-configuration?registration_token=...`), and that token is a bearer credential: whoever
reads it from the log can register their own keys with the LMS while it is valid."""
from __future__ import annotations

import logging

import pytest
import requests

from lti_app.sandbox.registration import issue_registration_token, openid_configuration_url
from tests.free_ports import held_port
from tests.lti.conftest import assert_refused, page_text
from tests.lti.test_registration import CONFIG_PATH, TOKEN, FakeMoodle, allow


def _register(tool_server, config_url: str, token: str):
    """As Canvas opens the tool's registration URL: the token also inside the configuration URL."""
    return requests.get(tool_server.url + "/lti/register", timeout=30, params={
        "openid_configuration": f"{config_url}?registration_token={token}", "registration_token": token})


def test_a_registration_logs_no_token(peer, tool_server, caplog):
    allow(tool_server, peer.url)
    token = issue_registration_token(peer.state)
    with caplog.at_level(logging.DEBUG, logger="lti_app"), caplog.at_level(logging.INFO):
        page = _register(tool_server, openid_configuration_url(peer.state), token)
    assert page.status_code == 200, page_text(page)[:800]
    assert token not in caplog.text


@pytest.mark.parametrize("fake, path, words", [
    ({"issuer_override": "https://other-lms.example"}, CONFIG_PATH, "does not match the origin"),
    ({}, "/mod/lti/no-such-configuration.php", "answered 404"),
])
def test_a_refused_registration_logs_the_url_without_the_token(tool_server, caplog, fake, path, words):
    with FakeMoodle(**fake) as moodle, caplog.at_level(logging.INFO):
        allow(tool_server, moodle.url)
        page = _register(tool_server, moodle.url + path, TOKEN)
    assert_refused(page, words)
    assert TOKEN not in caplog.text
    assert moodle.url + path in caplog.text   # the log still says which URL


def test_an_unreachable_configuration_url_logs_no_token(tool_server, caplog):
    with held_port() as closed, caplog.at_level(logging.INFO):   # bound here, not listening: refused
        url = f"http://127.0.0.1:{closed}"
        allow(tool_server, url)
        page = _register(tool_server, url + CONFIG_PATH, TOKEN)
    assert_refused(page, "Could not reach")
    assert TOKEN not in caplog.text and url + CONFIG_PATH in caplog.text


def test_an_unlisted_configuration_url_logs_no_token(tool_server, caplog):
    """The allowlist's refusal logs the URL too (registration_policy.vet)."""
    allow(tool_server, "https://moodle.school.example")
    with caplog.at_level(logging.INFO):
        page = _register(tool_server, "http://127.0.0.1:9" + CONFIG_PATH, TOKEN)
    assert_refused(page, "not listed in GRADELOOP_REGISTRATION_ORIGINS", status=403)
    assert TOKEN not in caplog.text and "http://127.0.0.1:9" + CONFIG_PATH in caplog.text
