"""Gradeloop launched by a real Chromium from the sandbox LMS course page: the tool in a
cross-site iframe (tool at `localhost`, LMS at `127.0.0.1`), as teacher and as student, and once
more with third-party cookies blocked (platform storage in the iframe, and "open in a new
window", which goes through the same-site bounce). Screenshots go to test-output/."""
from __future__ import annotations

from pathlib import Path

import pytest

from lti_app.sandbox.ui import DEMO_COURSE, FRAME_NAME, seed_demo
from tests.browser import CHROMIUM_ARGS

pytestmark = pytest.mark.browser

ARGS = CHROMIUM_ARGS
BLOCK_3PC = ["--test-third-party-cookie-phaseout"]
SHOTS = Path(__file__).resolve().parents[2] / "test-output"
LINK = "essay-feedback"


@pytest.fixture(scope="module")
def playwright_instance():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        yield p


def _open(playwright_instance, chromium_path, extra_args):
    browser = playwright_instance.chromium.launch(executable_path=chromium_path, args=ARGS + extra_args)
    context = browser.new_context(viewport={"width": 1100, "height": 800})
    return browser, context


@pytest.fixture
def lms(peer):
    seed_demo(peer.state)
    return peer


def _launch_in_frame(page, lms, tool_server, user_id, landing):
    page.goto(f"{lms.url}/courses/{DEMO_COURSE}/launch?user_id={user_id}&link={LINK}")
    frame = page.frame(name=FRAME_NAME)
    frame.wait_for_url(f"{tool_server.url}{landing}*", timeout=20000)
    frame.wait_for_load_state()
    return frame


def _shot(page, name):
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"lti-{name}.png"), full_page=True)


def test_teacher_and_student_launch_inside_the_lms_iframe(playwright_instance, chromium_path, lms, tool_server):
    browser, context = _open(playwright_instance, chromium_path, [])
    try:
        page = context.new_page()
        # The placement has no Gradeloop assignment yet: the teacher lands on its set-up form.
        frame = _launch_in_frame(page, lms, tool_server, "teacher-1", "/coursework/setup")
        assert frame.locator("h1").inner_text() == "Set up this essay assignment"
        assert frame.locator(".error-message").count() == 0
        _shot(page, "teacher-iframe")

        frame = _launch_in_frame(page, lms, tool_server, "student-1", "/coursework/")
        assert frame.locator("h1").inner_text() == "This assignment is not ready yet"
        _shot(page, "student-iframe")
    finally:
        browser.close()


def test_third_party_cookies_blocked_platform_storage_and_new_window(playwright_instance, chromium_path, lms,
                                                                     tool_server):
    browser, context = _open(playwright_instance, chromium_path, BLOCK_3PC)
    launches: list[tuple] = []     # (page, POST body) of every POST to the tool's launch URL
    context.on("request", lambda r: launches.append((r.frame.page, r.post_data or ""))
               if r.method == "POST" and r.url == f"{tool_server.url}/lti/launch" else None)
    try:
        page = context.new_page()
        frame = _launch_in_frame(page, lms, tool_server, "teacher-1", "/coursework/setup")
        # The flag really blocks: the framed tool has no unpartitioned cookie access.
        assert frame.evaluate("document.hasStorageAccess()") is False
        assert frame.locator("h1").inner_text() == "Set up this essay assignment"
        # Platform storage: the platform's post, then ours with the value read by lti.get_data.
        posts = [body for p, body in launches if p == page]
        assert len(posts) == 2 and "storage_binding=" in posts[1]
        assert "storage_binding=&" not in posts[1] + "&"
        _shot(page, "teacher-iframe-3pc-blocked")
        # Typing keeps the session alive; with the cookie blocked, through the page's lt token.
        drawn = frame.locator("input[name=lt]").first.input_value()
        page.wait_for_timeout(1100)   # tokens are signed to the second: the answer's must differ
        with page.expect_response(lambda r: r.url.endswith("/session/keep-alive")) as alive:
            frame.locator("#title").fill("Typed while the cookie is blocked")
        assert alive.value.ok and alive.value.json()["field"] == "lt"
        # The page's links, forms and fields now carry the token the keep-alive answered (signed
        # anew, so it differs from the page's by its time).
        renewed = alive.value.json()["value"]
        assert renewed != drawn
        frame.wait_for_function("t => document.querySelector('input[name=lt]').value === t", arg=renewed)
        assert frame.locator(f'form[action*="lt={renewed}"]').count() >= 1

        page.goto(f"{lms.url}/courses/{DEMO_COURSE}/launch?user_id=student-1&link={LINK}")
        with context.expect_page() as popup_info:
            page.get_by_role("link", name="Open in new window").click()
        window = popup_info.value
        window.wait_for_url(f"{tool_server.url}/coursework/*", timeout=20000)
        assert window.locator("h1").inner_text() == "This assignment is not ready yet"
        # Top-level cross-site POST carries no Lax cookie: one same-site bounce, then it does.
        posts = [body for p, body in launches if p == window]
        assert len(posts) == 2 and "gl_bounced=1" in posts[1]
        _shot(window, "student-new-window-3pc-blocked")
    finally:
        browser.close()


def test_new_window_launch_that_still_asks_for_platform_storage(playwright_instance, chromium_path, lms,
                                                                  tool_server):
    """Canvas sends `lti_storage_target` to a launch in a new tab too. The tool is top-level
    there, with no platform frame to store in: the login goes on with its own cookie, which
    works, instead of stopping at an "open in a new window" button."""
    browser, context = _open(playwright_instance, chromium_path, [])
    try:
        page = context.new_page()
        page.goto(f"{lms.url}/courses/{DEMO_COURSE}/launch?user_id=student-1&link={LINK}"
                  "&window=1&storage=always")
        page.wait_for_url(f"{tool_server.url}/coursework/*", timeout=20000)
        assert page.locator("h1").inner_text() == "This assignment is not ready yet"
    finally:
        browser.close()
