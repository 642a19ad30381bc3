"""A real browser on the sandbox LMS: Gradeloop launched inside the course page's iframe (a
cross-site frame, so the tool's cookie is not sent back on the launch POST and the tool must use
the sandbox's platform storage over postMessage), and the platform-storage host answering."""
from __future__ import annotations

import pytest

from lti_app.sandbox.ui import DEMO_COURSE, seed_demo
from tests.browser.served import served_browser

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def chromium(chromium_path):
    with served_browser(chromium_path) as browser:
        yield browser


@pytest.fixture
def page(chromium):
    context = chromium.new_context()
    try:
        yield context.new_page()
    finally:
        context.close()


def wait_for_tool_page(frame, pattern: str) -> None:
    """Wait for the framed launch to land; on failure say where the frame got stuck."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        frame.wait_for_url(pattern, timeout=30000)
        frame.wait_for_load_state()
    except PlaywrightTimeout:
        pytest.fail(f"frame stuck at {frame.url}: {frame.locator('body').inner_text()[:500]}")


def test_student_launches_gradeloop_in_the_course_iframe(page, peer, tool_server):
    seed_demo(peer.state)
    page.goto(f"{peer.url}/")
    page.get_by_label("Grace Hopper").check()
    page.get_by_role("button", name="Launch Gradeloop").click()
    page.wait_for_url(f"{peer.url}/courses/{DEMO_COURSE}/launch*")
    frame = page.frame(name="gradeloop-frame")
    wait_for_tool_page(frame, f"{tool_server.url}/coursework/*")
    assert frame.locator(".error-message").count() == 0
    # Over HTTP the tool's Lax cookie is not sent into the cross-site frame: platform storage did it.
    log = page.evaluate("window.sandboxPostMessageLog")
    assert [subject for subject in log if subject != "lti.frameResize"] == ["lti.put_data", "lti.get_data"]
    assert "lti.frameResize" in log, "the tool asks the LMS to fit its frame (Canvas's message)"
    spec = next(s for s in peer.state.launches.values() if s.user_id == "student-1")
    assert spec.used and spec.storage_target == "_parent"


def test_platform_storage_host_answers_only_the_tool_origin(page, peer, tool_server):
    seed_demo(peer.state)
    page.goto(f"{peer.url}/courses/{DEMO_COURSE}/launch?user_id=teacher-1&link=essay-feedback")
    frame = page.frame(name="gradeloop-frame")
    wait_for_tool_page(frame, f"{tool_server.url}/coursework/setup*")
    exchange = """async ([subject, extra]) => {
        const id = 'm' + Math.random();
        const answer = new Promise(resolve => window.addEventListener('message', e => {
            if (e.data && e.data.message_id === id && e.data.subject === subject + '.response') resolve({data: e.data, origin: e.origin}); }));
        window.parent.postMessage(Object.assign({subject, message_id: id}, extra), '*');
        return await Promise.race([answer, new Promise(r => setTimeout(() => r(null), 1500))]);
    }"""
    caps = frame.evaluate(exchange, ["lti.capabilities", {}])
    assert caps["data"]["subject"] == "lti.capabilities.response" and caps["origin"] == peer.url
    assert {m["subject"] for m in caps["data"]["supported_messages"]} >= {"lti.put_data", "lti.get_data"}
    put = frame.evaluate(exchange, ["lti.put_data", {"key": "k1", "value": "v1"}])
    assert put["data"]["subject"] == "lti.put_data.response" and put["data"]["value"] == "v1"
    got = frame.evaluate(exchange, ["lti.get_data", {"key": "k1"}])
    assert got["data"]["value"] == "v1"
    missing = frame.evaluate(exchange, ["lti.get_data", {"key": "nope"}])
    assert missing["data"]["error"]["code"] == "bad_request"
    # The course page itself (another origin than the tool) gets no answer.
    assert page.evaluate(exchange.replace("window.parent", "window"), ["lti.get_data", {"key": "k1"}]) is None
