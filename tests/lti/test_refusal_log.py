"""A refused login or launch logs one WARNING line (key=value) that names the code and what the
LMS sent (issuer, client id, deployment id): the LMS administrator sees only the refusal page in
a student's iframe, and Gradeloop's administrator needs the line to fix a deployment id. Never a
name, an e-mail or the token; values from an unverified token cannot forge a second line."""
from __future__ import annotations

import logging

import requests

from lti_app.sandbox.keys import named_key
from tests.lti.conftest import assert_refused

DEPLOYMENT = "https://purl.imsglobal.org/spec/lti/claim/deployment_id"


def _refusals(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if "event=launch_refused" in r.getMessage()]


def test_an_unknown_deployment_is_logged_once_without_the_token(peer, caplog):
    with caplog.at_level(logging.INFO):
        result = peer.launch(user_id="teacher-1", claims={DEPLOYMENT: "canvas-subaccount-2"})
    assert_refused(result.response, "is not registered with this tool")
    (record,) = _refusals(caplog)
    line = record.getMessage()
    assert record.levelno == logging.WARNING
    for part in ("step=launch", "code=unknown_deployment", f"issuer='{peer.issuer}'",
                 f"client_id='{peer.client_id}'", "deployment_id='canvas-subaccount-2'"):
        assert part in line, line
    logged = caplog.text
    assert result.id_token and result.id_token not in logged
    assert result.id_token.split(".")[1] not in logged and result.id_token.split(".")[2] not in logged
    assert result.claims["name"] not in logged and result.claims["email"] not in logged


def test_a_refused_login_is_logged(tool_server, caplog):
    with caplog.at_level(logging.INFO):
        response = requests.get(tool_server.url + "/lti/login", timeout=30, params={
            "iss": "https://unknown-lms.example", "login_hint": "user-77", "client_id": "client-9",
            "lti_deployment_id": "dep-3", "target_link_uri": tool_server.url + "/lti/launch"})
    assert_refused(response, "is not registered with this tool")
    (record,) = _refusals(caplog)
    line = record.getMessage()
    for part in ("step=login", "code=unknown_platform", "issuer='https://unknown-lms.example'",
                 "client_id='client-9'", "deployment_id='dep-3'"):
        assert part in line, line
    assert "user-77" not in caplog.text   # the login hint names the person


def test_values_of_a_forged_token_cannot_forge_log_lines(peer, caplog):
    claims = peer.base_claims()
    claims["iss"] = "https://evil.example\nevent=launch_ok code=none " + "x" * 5000
    claims[DEPLOYMENT] = "dep\r\nevent=admin_login user=root"
    forged = peer.sign(claims, key=named_key("attacker"))
    with caplog.at_level(logging.INFO):
        result = peer.launch(id_token=forged)
    assert_refused(result.response, "signature does not verify")
    (record,) = _refusals(caplog)
    line = record.getMessage()
    assert "code=bad_signature" in line
    assert "\n" not in line and "\r" not in line and "x" * 300 not in line and len(line) < 1000
    assert forged not in caplog.text
