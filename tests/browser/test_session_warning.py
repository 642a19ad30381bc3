"""Before the session ends, the page says so (WCAG 2.2.1, Timing Adjustable): an alert, announced
without taking focus, a few minutes before the end, with "Stay signed in", which extends the session
through the keep-alive, whether the session rides the cookie or the launch token (`lt`, cookie
refused in the LMS iframe); near the longest a session lasts, it says to open Gradeloop again from
the course, and that what was typed is kept. An ordinary page load shows nothing.

The sessions here are short (`GRADELOOP_SESSION_MINUTES`), and start just before the warning is
due, so nothing waits out a real session. The pages come from the Flask test client
(tests.browser.served); the last test runs in the sandbox LMS's cross-site iframe."""
from __future__ import annotations

import re
import time
from urllib.parse import parse_qs, urlsplit

import pytest

from lti_app import auth
from lti_app.auth import SESSION_KEY, LaunchContext
from lti_app.models import Role
from lti_app.sandbox.ui import DEMO_COURSE, FRAME_NAME, seed_demo
from tests.browser import CHROMIUM_ARGS
from tests.browser.served import BASE, open_page
from tests.coursework.helpers import login

pytestmark = pytest.mark.browser

IDLE_MINUTES = 10   # so the warning comes 5 minutes before the end, as with the default 2 hours
WARN_S = 300
SOON = "Your Gradeloop session ends at"
DUE_S = 4           # the test's session reaches its warning this long after it starts


@pytest.fixture
def short_sessions(app):
    app.config["GRADELOOP_SESSION_MINUTES"] = IDLE_MINUTES
    return app


def _student(client, app, world, **timing) -> str:
    return login(client, app, course_id=world.course_a, user_id=world.student2_a, role=Role.LEARNER,
                 resource_link_id=world.link_a, platform_id=world.platform, **timing)


def _essay_url(world) -> str:
    return f"{BASE}/coursework/a/{world.assignment_a}/essay"


def _left_on_token(app, token: str) -> float:
    with app.app_context():
        return auth._serializer().loads(token)["expires_at"] - time.time()


def test_the_warning_comes_five_minutes_ahead_with_the_default_session(app):
    with app.test_request_context():
        ctx = LaunchContext("x", 1, 1, 1, "Learner", expires_at=time.time() + 7200, started_at=time.time())
        assert ctx.timing["warn"] == WARN_S
        assert ctx.timing["latest"] == pytest.approx(ctx.started_at + 12 * 3600)


def test_a_warning_before_the_end_and_stay_signed_in_extends_the_session(short_sessions, client, world, browser):
    app = short_sessions
    _student(client, app, world, expires_in=WARN_S + DUE_S)
    page = open_page(browser, client)
    page.goto(_essay_url(world))
    warning = page.locator("#session-warning")
    assert warning.inner_text() == "", "an ordinary page load shows no warning"
    page.locator("#text").focus()   # the student reads their draft, typing nothing

    warning.get_by_text(SOON).wait_for(timeout=20_000)
    assert warning.locator(".notice").get_attribute("role") == "alert"
    assert page.evaluate("document.activeElement.id") == "text", "the warning takes no focus"
    said = warning.inner_text()
    assert re.search(r"ends at \d{1,2}:\d\d", said) and "has not been used for a while" in said, said

    warning.get_by_role("button", name="Stay signed in").click()
    page.locator("#session-renewed").get_by_text("You stay signed in until").wait_for()
    assert warning.inner_text() == ""
    assert page.evaluate("document.activeElement.id") == "text", "back where the student was"
    with client.session_transaction() as session:
        assert session[SESSION_KEY]["expires_at"] - time.time() > IDLE_MINUTES * 60 - 10


def test_stay_signed_in_renews_the_launch_token_without_a_cookie(short_sessions, world, browser):
    app = short_sessions
    with app.app_context():
        now = time.time()
        token = auth.launch_token(LaunchContext("lt-only", world.platform, world.course_a, world.student2_a,
                                                Role.LEARNER.value, world.link_a, expires_at=now + WARN_S + DUE_S,
                                                started_at=now))
    client = app.test_client()   # no cookie: the session rides the token, as in a cross-site iframe
    page = open_page(browser, client)
    page.goto(f"{_essay_url(world)}?lt={token}")
    page.locator("#session-warning").get_by_text(SOON).wait_for(timeout=20_000)
    page.get_by_role("button", name="Stay signed in").click()
    page.locator("#session-renewed").get_by_text("You stay signed in until").wait_for()
    in_form = page.locator('form input[name="lt"]').first.input_value()
    in_action = parse_qs(urlsplit(page.locator("form[enctype]").get_attribute("action")).query)["lt"][0]
    assert in_form == in_action != token
    assert _left_on_token(app, in_form) > IDLE_MINUTES * 60 - 10


def test_near_the_longest_session_it_says_to_open_gradeloop_again(short_sessions, client, world, browser):
    app = short_sessions
    # 12 hours after the launch, a session ends however much it is used.
    _student(client, app, world, expires_in=100, started_ago=12 * 3600 - 100)
    page = open_page(browser, client)
    page.goto(_essay_url(world))
    warning = page.locator("#session-warning")
    warning.get_by_text(SOON).wait_for()
    said = warning.inner_text()
    assert "cannot be extended" in said and "open Gradeloop again from your course" in said, said
    assert "What you typed here is kept" in said
    assert warning.get_by_role("button").count() == 0, "nothing to press that could not help"


def test_once_the_session_ended_the_page_says_so(short_sessions, client, world, browser):
    _student(client, short_sessions, world, expires_in=WARN_S + 60)
    page = open_page(browser, client)
    page.clock.install()
    page.goto(_essay_url(world))
    assert page.locator("#session-warning").inner_text() == ""
    page.clock.fast_forward((WARN_S + 70) * 1000)   # a laptop lid closed for a while
    ended = page.locator("#session-warning").get_by_text("Your Gradeloop session has ended")
    ended.wait_for()
    assert "Open Gradeloop again from your course" in ended.inner_text()


def test_stay_signed_in_works_in_the_lms_iframe(peer, tool_server, chromium_path):
    """A real launch in the sandbox LMS's cross-site iframe, over plain HTTP: the browser drops the
    cookie there, and the session rides the launch token."""
    from playwright.sync_api import sync_playwright

    from tests.browser.test_coursework_browser import _launch

    tool_server.app.config["GRADELOOP_SESSION_MINUTES"] = 0.2   # 12 s: the warning comes after 6
    seed_demo(peer.state)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        try:
            page = browser.new_context(viewport={"width": 1100, "height": 900}).new_page()
            frame = _launch(page, f"{peer.url}/courses/{DEMO_COURSE}/deep-link?user_id=teacher-1",
                            "Choose an essay assignment")
            link = frame.get_by_role("link", name="Choose an essay assignment")
            token = parse_qs(urlsplit(link.get_attribute("href")).query)["lt"][0]
            frame.locator("#session-warning").get_by_text(SOON).wait_for(timeout=20_000)
            frame.get_by_role("button", name="Stay signed in").click()
            frame.locator("#session-renewed").get_by_text("You stay signed in until").wait_for()
            renewed = parse_qs(urlsplit(link.get_attribute("href")).query)["lt"][0]
            assert renewed != token and _left_on_token(tool_server.app, renewed) > 6
            assert len(page.context.pages) == 1, "no popup"
        finally:
            browser.close()
