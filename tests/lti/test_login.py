"""OIDC login initiation, the browser-binding cookie, and the recoveries for browsers that
refuse our cookie in the LMS iframe (platform storage, same-site bounce, new window)."""
from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

import pytest

from lti_app.extensions import db
from lti_app.lti import registry
from lti_app.lti.claims import TOOL_PLATFORM
from lti_app.lti.validation import binding_hash
from lti_app.models import LoginState, Platform
from lti_app.platforms import upsert_platform
from lti_app.sandbox.oidc import initiation_params, start_launch
from tests.lti.conftest import assert_refused, page_text

BINDING = "gradeloop_lti_browser"


def _params(peer, **extra):
    spec = start_launch(peer.state, user_id="teacher-1", course_id="course-1", role="Instructor")
    return {**initiation_params(peer.state, spec), **extra}


def _login(peer, browser, **extra):
    return browser.get(peer.state.tool.login_url, params=_params(peer, **extra), allow_redirects=False,
                       timeout=30)


def test_login_redirects_to_platform_with_oidc_parameters(peer, tool_server):
    browser = peer.browser()
    params = _params(peer)
    response = browser.get(peer.state.tool.login_url, params=params, allow_redirects=False, timeout=30)
    assert response.status_code == 302
    location = urlparse(response.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == peer.state.auth_url
    query = {k: v[0] for k, v in parse_qs(location.query).items()}
    assert query["scope"] == "openid" and query["response_type"] == "id_token"
    assert query["response_mode"] == "form_post" and query["prompt"] == "none"
    assert query["client_id"] == peer.client_id
    assert query["redirect_uri"] == tool_server.url + "/lti/launch"
    assert query["login_hint"] == params["login_hint"]
    assert query["lti_message_hint"] == params["lti_message_hint"]
    with tool_server.app.app_context():
        row = db.session.get(LoginState, query["state"])
        assert row.nonce == query["nonce"] and row.used_at is None
        assert row.browser_binding == binding_hash(browser.cookies[BINDING])
    cookie = response.headers["Set-Cookie"]
    assert "SameSite=Lax" in cookie and "HttpOnly" in cookie and "Secure" not in cookie


def test_login_by_post_works(peer, tool_server):
    assert peer.launch(login_method="POST").response.status_code == 200


@pytest.mark.parametrize("change, words", [
    ({"iss": "https://unknown.example"}, "is not registered with this tool"),
    ({"client_id": "another-client"}, "not with client id 'another-client'"),
    ({"target_link_uri": "https://evil.example/lti/launch"}, "is not this tool's launch URL"),
    ({"login_hint": ""}, "missing login_hint"),
])
def test_bad_login_is_refused_in_words(peer, tool_server, change, words):
    browser = peer.browser()
    response = browser.get(peer.state.tool.login_url, params=_params(peer, **change), allow_redirects=False,
                           timeout=30)
    assert_refused(response, words, status=400)
    assert BINDING not in browser.cookies


def test_cookie_is_samesite_none_secure_partitioned_over_https(make_app):
    app = make_app(public_url="https://gradeloop.example")
    with app.app_context():
        upsert_platform(issuer="https://lms.example", client_id="c1", deployment_ids=["d1"],
                        auth_login_url="https://lms.example/auth", auth_token_url="https://lms.example/token",
                        key_set_url="https://lms.example/jwks")
    response = app.test_client().get("/lti/login", query_string={
        "iss": "https://lms.example", "login_hint": "u1", "client_id": "c1",
        "target_link_uri": "https://gradeloop.example/lti/launch"})
    assert response.status_code == 302
    cookie = response.headers["Set-Cookie"]
    for part in ("SameSite=None", "Secure", "Partitioned", "HttpOnly", "Path=/lti/"):
        assert part in cookie
    assert "redirect_uri=https%3A%2F%2Fgradeloop.example%2Flti%2Flaunch" in response.headers["Location"]
    with app.test_request_context("/"):   # the session cookie a launch then sets: the same attributes
        from flask import session

        session["launch"] = "x"
        answer = app.response_class()
        app.session_interface.save_session(app, session, answer)
    for part in ("SameSite=None", "Secure", "Partitioned", "HttpOnly"):
        assert part in answer.headers["Set-Cookie"], answer.headers["Set-Cookie"]


def test_platform_storage_login_page_and_launch(peer, tool_server):
    """Login with lti_storage_target answers a page that stores the binding value in the
    platform's frame (lti.put_data) and goes on to the platform; the peer follows its form."""
    browser = peer.browser()
    page = _login(peer, browser, lti_storage_target="_parent")
    assert page.status_code == 200
    text = page.text
    assert '"lti.put_data"' in text and f'"{peer.url}"' in text   # target origin = auth URL origin
    secret = re.search(r'value: "([^"]+)"', text).group(1)
    assert secret == browser.cookies[BINDING]
    assert peer.launch(storage_target="_parent").response.status_code == 200


def test_launch_without_cookie_reads_platform_storage(peer, tool_server):
    """The iframe refused our cookie: the launch page asks platform storage (lti.get_data) and
    re-posts with the value, which binds the launch to the browser that logged in."""
    browser = peer.browser()
    page = _login(peer, browser, lti_storage_target="post_message_forwarding")
    secret = re.search(r'value: "([^"]+)"', page.text).group(1)
    form_action = re.search(r'<form id="to-platform" method="get" action="([^"]+)"', page.text).group(1)
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page.text))
    auth = browser.get(form_action, params=fields, timeout=30)
    cookieless = peer.browser()
    first = peer.submit_form(auth, cookieless, with_field="state")
    assert first.status_code == 200 and '"lti.get_data"' in first.text
    assert '"post_message_forwarding"' in first.text
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', first.text))
    assert fields["storage_binding"] == ""
    wrong = cookieless.post(tool_server.url + "/lti/launch", data={**fields, "storage_binding": "x" * 40},
                            timeout=30)
    assert_refused(wrong, "different browser")
    fields["storage_binding"] = secret
    # Login CSRF: whoever holds an unused launch and its secret (their own) could post both from an
    # other site's page in a victim's browser, which would then work in their session. Only our own
    # re-post page, same-origin, may carry the value.
    for forged in ({"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site", "Sec-Fetch-Dest": "iframe"},
                   {"Origin": "https://evil.example"}):
        victim = peer.browser()
        refused = victim.post(tool_server.url + "/lti/launch", data=fields, headers=forged, timeout=30)
        assert_refused(refused, "did not send back the cookie")
        assert not victim.cookies.get("gradeloop_session")
    done = cookieless.post(tool_server.url + "/lti/launch", data=fields, timeout=30,
                           headers={"Origin": tool_server.url, "Sec-Fetch-Site": "same-origin"})
    assert done.status_code == 200 and "/coursework/" in done.url


def test_top_level_cross_site_post_without_cookie_bounces_once(peer, tool_server):
    browser = peer.browser()
    started = _login(peer, browser)
    auth = browser.get(started.headers["Location"], timeout=30)
    fields = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', auth.text))
    cross_site = {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Dest": "document"}
    bounce = peer.browser().post(tool_server.url + "/lti/launch", data=fields, headers=cross_site, timeout=30)
    assert bounce.status_code == 200 and 'name="gl_bounced"' in bounce.text
    # The bounced POST comes from our own page: same-site, so the Lax cookie is there.
    done = browser.post(tool_server.url + "/lti/launch", data={**fields, "gl_bounced": "1"}, timeout=30)
    assert done.status_code == 200 and "/coursework/" in done.url


def test_cookieless_launch_offers_a_new_window(peer, tool_server):
    browser = peer.browser()
    started = _login(peer, browser, lti_storage_target="_parent")
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', started.text))
    action = re.search(r'action="([^"]+)"', started.text).group(1)
    auth = browser.get(action, params=fields, timeout=30)
    cookieless = peer.browser()
    launch_fields = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', auth.text))
    refused = cookieless.post(tool_server.url + "/lti/launch",
                              data={**launch_fields, "storage_binding": ""}, timeout=30)
    assert_refused(refused, "did not send back the cookie")
    link = re.search(r'id="open-new-window" href="([^"]+)"', refused.text).group(1)
    query = parse_qs(urlparse(page_text(refused).split('id="open-new-window" href="')[1].split('"')[0]).query)
    assert link.startswith("/lti/login?") and "lti_storage_target" not in query
    assert query["iss"] == [peer.issuer] and query["client_id"] == [peer.client_id]
    # The new window is a fresh top-level login that works with first-party cookies.
    window = peer.browser()
    relogin = window.get(tool_server.url + link.replace("&amp;", "&"), allow_redirects=False, timeout=30)
    assert relogin.status_code == 302 and relogin.headers["Location"].startswith(peer.state.auth_url)


def _cookieless_refusal(peer, tool_server):
    browser = peer.browser()
    started = _login(peer, browser)
    auth = browser.get(started.headers["Location"], timeout=30)
    fields = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', auth.text))
    return peer.browser().post(tool_server.url + "/lti/launch", data=fields, timeout=30)


def test_launches_teach_the_tool_its_platform_family(peer, tool_server):
    """A platform added by hand has no product family; its signed launches say which LMS it is."""
    from lti_app.lti import registry
    with tool_server.app.app_context():
        db.session.execute(db.update(Platform).values(product_family=None))
        db.session.commit()
        registry.forget()
    assert peer.launch(claims={TOOL_PLATFORM: {"guid": "m1", "product_family_code": "Moodle"}}).reached_launch
    with tool_server.app.app_context():
        assert db.session.scalar(db.select(Platform.product_family)) == "moodle"
        assert registry.by_id(db.session.scalar(db.select(Platform.id))).product_family == "moodle"


def test_cookieless_moodle_launch_asks_for_a_new_window_launch_from_moodle(peer, tool_server):
    """Moodle deletes the login's lti_message_hint on first use: re-sending the same login in a new
    window can only fail there, so the page says what does work instead of offering that link."""
    from lti_app.lti import registry
    from lti_app.models import Platform

    assert 'id="open-new-window"' in _cookieless_refusal(peer, tool_server).text
    with tool_server.app.app_context():
        db.session.execute(db.update(Platform).values(product_family="moodle"))
        db.session.commit()
        registry.forget()
    refused = _cookieless_refusal(peer, tool_server)
    assert_refused(refused, "did not send back the cookie")
    assert 'id="open-new-window"' not in refused.text
    assert "Launch container" in page_text(refused) and "New window" in page_text(refused)


def test_frame_ancestors_name_registered_platforms(peer, tool_server):
    from lti_app.lti import framing

    framing.forget()
    csp = peer.browser().get(tool_server.url + "/lti/jwks", timeout=30).headers["Content-Security-Policy"]
    assert csp == f"frame-ancestors 'self' {peer.url}"


def test_canvas_cloud_schools_may_frame_the_tool():
    """Canvas cloud's issuer and login URL are not where courses live (<school>.instructure.com):
    the whole instructure.com domain may frame the tool; other platforms only their own origins."""
    from lti_app.lti.framing import ancestors_for

    canvas = ancestors_for(["https://canvas.instructure.com", "https://sso.canvaslms.com/api/lti/authorize_redirect"])
    assert canvas == ["https://*.instructure.com", "https://canvas.instructure.com", "https://sso.canvaslms.com"]
    moodle = ancestors_for(["https://moodle.school.org", "https://moodle.school.org/mod/lti/auth.php"])
    assert moodle == ["https://moodle.school.org"]
    assert ancestors_for(["https://evil-instructure.com", "http://x.instructure.com", None, "not a url"]) == [
        "http://x.instructure.com", "https://evil-instructure.com"]


def test_platform_storage_page_keeps_the_auth_urls_own_query(peer, tool_server):
    """The storage page reaches the platform through a GET form, which drops its action's query:
    an authorization URL with parameters of its own (`.../auth.php?tenant=2`) keeps them as fields."""
    with tool_server.app.app_context():
        platform = db.session.scalar(db.select(Platform).filter_by(issuer=peer.issuer))
        platform.auth_login_url = peer.state.auth_url + "?tenant=2"
        db.session.commit()
    registry.forget()
    page = _login(peer, peer.browser(), lti_storage_target="_parent")
    form = re.search(r'<form id="to-platform" method="get" action="([^"]+)">(.*?)</form>', page.text, re.S)
    assert form.group(1) == peer.state.auth_url
    assert '<input type="hidden" name="tenant" value="2">' in form.group(2)
    assert '<input type="hidden" name="response_type" value="id_token">' in form.group(2)
