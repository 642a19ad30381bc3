"""Known-bad launches (after the 1EdTech LTI 1.3 certification list of invalid payloads), each
through the real platform peer over HTTP. Every one must answer 4xx with a page naming the
problem, create no rows, and leave the browser without a tool session."""
from __future__ import annotations

import time
from datetime import timedelta

import jwt
import pytest

from lti_app.extensions import db
from lti_app.models import LoginState
from lti_app.sandbox.keys import named_key
from lti_app.sandbox.oidc import initiation_params, start_launch
from tests.lti.conftest import SESSION_COOKIE, assert_no_session, assert_refused, count_users, session_payload

LTI = "https://purl.imsglobal.org/spec/lti/claim/"
DL = "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"


def _signed(**sign_kwargs):
    """A launch whose id_token is replaced by one signed our way (header/key tests come before
    the nonce check, so the base claims' placeholder nonce does not matter)."""
    def make(peer, tool_server):
        return peer.launch(id_token=peer.sign(peer.base_claims(), **sign_kwargs)).response
    return make


def _claims(claims=None, drop=(), **launch_kwargs):
    def make(peer, tool_server):
        return peer.launch(claims=claims or {}, drop_claims=drop, **launch_kwargs).response
    return make


def _now_claims(exp_delta, iat_delta):
    def make(peer, tool_server):
        now = int(time.time())
        return peer.launch(claims={"exp": now + exp_delta, "iat": now + iat_delta}).response
    return make


def _post_launch(fields_from):
    def make(peer, tool_server):
        browser = peer.browser()
        return browser.post(tool_server.url + "/lti/launch", data=fields_from(peer), timeout=30)
    return make


def _login(peer, browser, user_id="teacher-1"):
    spec = start_launch(peer.state, user_id=user_id, course_id="course-1", role="Instructor")
    return browser.get(peer.state.tool.login_url, params=initiation_params(peer.state, spec),
                       allow_redirects=False, timeout=30)


def _state_of_other_browser(peer, tool_server):
    """Login CSRF: the victim's browser started the login; the attacker's browser (with its own
    login cookie) finishes it."""
    victim, attacker = peer.browser(), peer.browser()
    started = _login(peer, victim)
    _login(peer, attacker)
    auth = attacker.get(started.headers["Location"], timeout=30)
    return peer.submit_form(auth, attacker, with_field="state")


def _stale_state(peer, tool_server):
    browser = peer.browser()
    started = _login(peer, browser)
    with tool_server.app.app_context():
        for row in db.session.scalars(db.select(LoginState)):
            row.created_at = row.created_at - timedelta(minutes=11)
        db.session.commit()
    auth = browser.get(started.headers["Location"], timeout=30)
    return peer.submit_form(auth, browser, with_field="state")


def _without_kid(peer, tool_server):
    # peer.sign always writes a kid header (PyJWT refuses kid=None), so sign with its key directly.
    token = jwt.encode(peer.base_claims(), peer.keys.current.private_key, algorithm="RS256")
    return peer.launch(id_token=token).response


CASES = {
    "no kid": (_without_kid, "no kid"),
    "bad signature": (_signed(key=named_key("attacker")), "signature does not verify"),
    "alg none": (_signed(alg="none", key=None), "only RS256"),
    "alg HS256": (_signed(alg="HS256", key="s" * 32), "only RS256"),
    "not a JWT": (_claims(id_token="this-is-not-a-jwt"), "not a JWT"),
    "garbage JWT parts": (_claims(id_token="a.b.c"), "not a JWT"),
    "expired": (_now_claims(-3600, -4000), "expired"),
    "future iat": (_now_claims(7200, 3600), "future"),
    "wrong iss": (_claims({"iss": "https://evil.example"}), "issuer (iss)"),
    "wrong aud": (_claims({"aud": "someone-else"}), "audience (aud)"),
    "several aud without azp": (_claims({"aud": ["gradeloop-test-client", "other"]}, drop=("azp",)), "no azp"),
    "azp wrong": (_claims({"azp": "other-client"}), "azp 'other-client'"),
    "missing nonce": (_claims(drop=("nonce",)), "no nonce"),
    "wrong nonce": (_claims({"nonce": "not-the-login-nonce"}), "nonce does not match"),
    "non-ASCII nonce": (_claims({"nonce": "nonce-\u00e9"}), "nonce does not match"),
    "missing deployment_id": (_claims(drop=(LTI + "deployment_id",)), "no deployment_id"),
    "unregistered deployment_id": (_claims({LTI + "deployment_id": "dep-x"}), "'dep-x' is not registered"),
    "missing message type": (_claims(drop=(LTI + "message_type",)), "no message_type"),
    "wrong message type": (_claims({LTI + "message_type": "LtiSubmissionReviewRequest"}), "not supported"),
    "wrong version": (_claims({LTI + "version": "1.1.0"}), "LTI version '1.1.0'"),
    "missing roles": (_claims(drop=(LTI + "roles",)), "no roles claim"),
    "missing sub": (_claims(drop=("sub",)), "Anonymous launches"),
    "missing resource link": (_claims(drop=(LTI + "resource_link",)), "no resource_link id"),
    "deep link without return url": (
        _claims({DL: {"accept_types": ["ltiResourceLink"], "accept_presentation_document_targets": ["iframe"]}},
                message_type="LtiDeepLinkingRequest", resource_link_id=None), "no deep_link_return_url"),
    "exp not a number": (_claims({"exp": float("nan")}), "finite numbers"),
    "iat not a number": (_claims({"iat": float("nan")}), "finite numbers"),
    "exp infinite": (_claims({"exp": float("inf")}), "finite numbers"),
    "exp a boolean": (_claims({"exp": True}), "finite numbers"),
    "nbf not a number": (_claims({"nbf": float("nan")}), "finite numbers"),
    "nbf in the future": (_claims({"nbf": 10 ** 12}), "not valid yet"),
    "deployment_id with NUL": (_claims({LTI + "deployment_id": "dep\u0000"}), "not a deployment id"),
    "deep link accept_types not a list": (
        _claims({DL: {"deep_link_return_url": "https://lms.example/r", "accept_types": 5}},
                message_type="LtiDeepLinkingRequest", resource_link_id=None), "accept_types is not a list"),
    "deep link accept_types not strings": (
        _claims({DL: {"deep_link_return_url": "https://lms.example/r", "accept_types": [{"t": 1}]}},
                message_type="LtiDeepLinkingRequest", resource_link_id=None), "accept_types is not a list"),
    "deep link return url not a string": (
        _claims({DL: {"deep_link_return_url": ["https://lms.example/r"]}},
                message_type="LtiDeepLinkingRequest", resource_link_id=None), "deep_link_return_url is not a URL"),
    # It becomes the action of a form the deep-link page submits by script: `javascript:` would run
    # on the tool's origin, `data:` would show a page of the LMS's choosing.
    "deep link return url javascript": (
        _claims({DL: {"deep_link_return_url": "javascript:alert(document.domain)//"}},
                message_type="LtiDeepLinkingRequest", resource_link_id=None), "deep_link_return_url is not a web address"),
    "deep link return url data": (
        _claims({DL: {"deep_link_return_url": "data:text/html,<b>x</b>"}},
                message_type="LtiDeepLinkingRequest", resource_link_id=None), "deep_link_return_url is not a web address"),
    "deep link return url relative": (
        _claims({DL: {"deep_link_return_url": "/return"}},
                message_type="LtiDeepLinkingRequest", resource_link_id=None), "deep_link_return_url is not a web address"),
    "context id a JSON object": (_claims({LTI + "context": {"id": {"id": "course-1"}}}),
                                 "course id (context id) is not an id"),
    "sub with NUL": (_claims({"sub": "teacher\u00001"}), "user id (sub) contains a NUL character"),
    "context id with NUL": (_claims({LTI + "context": {"id": "course\u00001", "title": "Biology"}}),
                            "course id (context id) contains a NUL character"),
    "resource link id with NUL": (_claims({LTI + "resource_link": {"id": "rl\u00001"}}),
                                  "resource link id contains a NUL character"),
    "missing state": (_post_launch(lambda p: {"id_token": p.sign(p.base_claims())}), "no state"),
    "unknown state": (_post_launch(lambda p: {"id_token": p.sign(p.base_claims()), "state": "forged"}),
                      "state is unknown"),
    "state from another browser": (_state_of_other_browser, "different browser"),
    "state older than 10 minutes": (_stale_state, "more than 10 minutes old"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_launch_is_refused(peer, tool_server, case):
    make, words = CASES[case]
    response = make(peer, tool_server)
    assert_refused(response, words)
    assert count_users(tool_server) == (0, 0)
    browser = peer.browser()
    browser.cookies.update(response.cookies)
    assert_no_session(browser, tool_server)


def test_a_token_valid_until_the_far_future_launches(peer, tool_server):
    """`exp` is the platform's to choose; one past the year 9999 crashed the nonce's bookkeeping."""
    assert peer.launch(claims={"exp": 10 ** 12}).response.status_code == 200


def test_unknown_kid_refetches_jwks_once_then_refuses(peer, tool_server, jwks_fetches):
    peer.launch()                          # warms the cache
    assert len(jwks_fetches) == 1
    token = peer.sign(peer.base_claims(), kid="kid-nobody-published", key=named_key("attacker"))
    result = peer.launch(peer.browser(), id_token=token, user_id="t3")
    assert_refused(result.response, "which the platform does not publish")
    assert len(jwks_fetches) == 2
    assert_no_session(result.browser, tool_server)


def test_replayed_launch_in_same_browser_is_refused(peer, tool_server):
    first = peer.launch()
    assert first.response.status_code == 200
    session_before = first.browser.cookies[SESSION_COOKIE]
    again = first.browser.post(tool_server.url + "/lti/launch",
                               data={"id_token": first.id_token, "state": first.state}, timeout=30)
    assert_refused(again, "already used", existing_session=session_before)
    assert session_payload(first.browser.cookies[SESSION_COOKIE]) == session_payload(session_before)


def test_same_token_and_state_from_fresh_browser_is_refused(peer, tool_server):
    first = peer.launch()
    thief = peer.browser()
    stolen = thief.post(tool_server.url + "/lti/launch",
                        data={"id_token": first.id_token, "state": first.state}, timeout=30)
    assert_refused(stolen, "different browser")
    assert_no_session(thief, tool_server)


def test_replayed_token_with_fresh_state_is_refused(peer, tool_server):
    """The thief starts its own login (fresh state, its own cookie) and posts the old token."""
    first = peer.launch()
    thief = peer.browser()
    started = _login(peer, thief)
    fresh_state = started.headers["Location"].split("state=")[1].split("&")[0]
    replay = thief.post(tool_server.url + "/lti/launch",
                        data={"id_token": first.id_token, "state": fresh_state}, timeout=30)
    assert_refused(replay, "nonce")
    assert_no_session(thief, tool_server)


def test_replayed_nonce_is_refused_even_with_a_matching_state(peer, tool_server):
    """Defence in depth: a LoginState that carries an already used nonce is refused."""
    first = peer.launch()
    browser = peer.browser()
    started = _login(peer, browser, user_id="teacher-1")
    fresh_state = started.headers["Location"].split("state=")[1].split("&")[0]
    nonce = peer.decode_unverified(first.id_token)["nonce"]
    with tool_server.app.app_context():
        db.session.get(LoginState, fresh_state).nonce = nonce
        db.session.commit()
    replay = browser.post(tool_server.url + "/lti/launch",
                          data={"id_token": first.id_token, "state": fresh_state}, timeout=30)
    assert_refused(replay, "already used: this launch is a replay")


def test_platform_error_response_is_a_clear_refusal(peer, tool_server):
    """A platform that answers the auth request with an OIDC error, not an id_token."""
    browser = peer.browser()
    started = _login(peer, browser)
    state = started.headers["Location"].split("state=")[1].split("&")[0]
    answer = browser.post(tool_server.url + "/lti/launch",
                          data={"error": "login_required", "error_description": "not signed in",
                                "state": state}, timeout=30)
    assert_refused(answer, "login_required")


def test_unreachable_platform_jwks_is_a_clear_refusal(peer, tool_server):
    from lti_app.models import Platform

    with tool_server.app.app_context():
        db.session.scalar(db.select(Platform)).key_set_url = "http://127.0.0.1:9/jwks"
        db.session.commit()
    result = peer.launch()
    assert_refused(result.response, "Could not fetch the platform's public keys")
    assert_no_session(result.browser, tool_server)


def test_refused_launch_burns_its_state(peer, tool_server):
    """A launch refused after the state was proven ours cannot be retried with that state."""
    result = peer.launch(claims={"aud": "someone-else"})
    assert_refused(result.response, "audience")
    with tool_server.app.app_context():
        assert db.session.get(LoginState, result.state).used_at is not None


def test_a_stranger_cannot_burn_someone_elses_state(peer, tool_server):
    browser = peer.browser()
    started = _login(peer, browser)
    state = started.headers["Location"].split("state=")[1].split("&")[0]
    stranger = peer.browser()
    refused = stranger.post(tool_server.url + "/lti/launch", data={"id_token": "x.y.z", "state": state}, timeout=30)
    assert_refused(refused, "different browser")
    with tool_server.app.app_context():
        assert db.session.get(LoginState, state).used_at is None
    auth = browser.get(started.headers["Location"], timeout=30)
    assert peer.submit_form(auth, browser, with_field="state").status_code == 200
