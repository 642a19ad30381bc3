"""Before the session ends, the page says so (WCAG 2.2.1, Timing Adjustable): an alert, announced
without taking focus, a few minutes before the end, with "Stay signed in", which extends the session
through the keep-alive, whether the session rides the cookie or the launch token (`lt`, cookie
refused in the LMS iframe); near the longest a session lasts, it says to open Gradeloop again from
the course, and that what was typed is kept. An ordinary page load shows nothing. Before it warns,
the page reads the session's real end without renewing it (another tab may have kept the session
going); a *Stay signed in* that fails says so; in an LMS frame fitted to the page's height, the
warning is at the frame's top and the LMS is asked to scroll there (Canvas's lti.scrollToTop).

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


def test_a_page_with_nothing_to_type_does_not_say_typed_text_is_kept(short_sessions, client, world, browser):
    app = short_sessions
    login(client, app, course_id=world.course_a, user_id=world.teacher_a, role=Role.INSTRUCTOR,
          platform_id=world.platform, expires_in=100, started_ago=12 * 3600 - 100)
    page = open_page(browser, client)
    page.goto(f"{BASE}/dashboard/a/{world.assignment_a}")   # buttons only: nothing to type in
    warning = page.locator("#session-warning")
    warning.get_by_text(SOON).wait_for()
    said = warning.inner_text()
    assert "open Gradeloop again from your course" in said and "typed" not in said, said


def _end_on_the_server(client) -> None:
    """The session's end passes on the server, as it would while a laptop's lid is closed."""
    with client.session_transaction() as session:
        session[SESSION_KEY] = {**session[SESSION_KEY], "expires_at": time.time() - 1}


def test_once_the_session_ended_the_page_says_so(short_sessions, client, world, browser):
    _student(client, short_sessions, world, expires_in=WARN_S + 60)
    page = open_page(browser, client)
    page.clock.install()
    page.goto(_essay_url(world))
    assert page.locator("#session-warning").inner_text() == ""
    _end_on_the_server(client)
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


def test_reading_the_end_does_not_renew_the_session(short_sessions, client, world):
    """What a page asks before it warns (session_end): the session's end, read without renewing it
    (a warning left on screen is not use), whether the session rides the cookie or the launch
    token; a session that has ended answers 401, which the page takes as "ended"."""
    app = short_sessions
    _student(client, app, world, expires_in=200)   # a page opened now would renew it
    with client.session_transaction() as session:
        end = session[SESSION_KEY]["expires_at"]
    answer = client.get("/session/end", headers={"Accept": "application/json"})
    assert answer.status_code == 200 and answer.headers["Cache-Control"] == "no-store"
    assert set(answer.json) == {"left", "ends", "latest", "warn"}
    assert answer.json["ends"] == end and 190 < answer.json["left"] <= 200
    with client.session_transaction() as session:
        assert session[SESSION_KEY]["expires_at"] == end, "asking is not use"

    with app.app_context():
        now = time.time()
        token = auth.launch_token(LaunchContext("lt-only", world.platform, world.course_a, world.student2_a,
                                                Role.LEARNER.value, world.link_a, expires_at=now + 200,
                                                started_at=now - 400))
    alone = app.test_client().get(f"/session/end?lt={token}", headers={"Accept": "application/json"})
    assert alone.status_code == 200 and alone.json["ends"] == pytest.approx(now + 200)

    _end_on_the_server(client)
    assert client.get("/session/end", headers={"Accept": "application/json"}).status_code == 401


def test_a_tab_left_open_does_not_warn_of_a_session_another_tab_kept_going(short_sessions, client, world, browser):
    """With the cookie, every tab of a launch shares one session. A teacher leaves the essay list open
    in one tab and grades in others: the tab left open went by the end it was drawn with, said the
    session had ended, and sent the teacher back to the LMS for nothing (diffreview3 #1)."""
    app = short_sessions
    _student(client, app, world, expires_in=WARN_S + DUE_S)
    asked = []
    tab_a = open_page(browser, client, requests=asked)
    tab_a.clock.install()
    tab_a.clock.pause_at(time.time() + 1)   # no timer runs until the clock is moved on
    tab_a.goto(_essay_url(world))
    time.sleep(DUE_S)                         # a session is renewed at most every 5 minutes
    tab_b = open_page(browser, client)
    tab_b.goto(_essay_url(world))             # use in another tab renews the shared session
    with client.session_transaction() as session:
        renewed = session[SESSION_KEY]["expires_at"]
    assert renewed - time.time() > IDLE_MINUTES * 60 - 30

    tab_a.clock.fast_forward((WARN_S + DUE_S + 20) * 1000)   # past the end tab A was drawn with
    time.sleep(1)
    assert tab_a.locator("#session-warning").inner_text() == ""
    assert "/session/end" in asked, "tab A asked the server before warning"
    with client.session_transaction() as session:
        assert session[SESSION_KEY]["expires_at"] == renewed

    _end_on_the_server(client)                # and once the session has really ended, it says so
    tab_a.clock.fast_forward((IDLE_MINUTES * 60 + 10) * 1000)
    tab_a.locator("#session-warning").get_by_text("Your Gradeloop session has ended").wait_for()


def test_stay_signed_in_refused_says_the_session_has_ended(short_sessions, client, world, browser):
    """The keep-alive refused (the browser's cookie lost this launch: someone else opened Gradeloop in
    this browser, or the session ended): the button did nothing, and the warning went on naming an
    end the server had already dropped (diffreview3 #7)."""
    _student(client, short_sessions, world, expires_in=WARN_S + DUE_S)
    page = open_page(browser, client)
    page.goto(_essay_url(world))
    page.locator("#text").focus()
    warning = page.locator("#session-warning")
    warning.get_by_text(SOON).wait_for(timeout=20_000)
    with client.session_transaction() as session:
        session.clear()
    warning.get_by_role("button", name="Stay signed in").click()
    warning.get_by_text("Your Gradeloop session has ended").wait_for()
    assert warning.locator(".notice").get_attribute("role") == "alert"
    assert page.evaluate("document.activeElement.id") == "text", "back where the student was"


def _stay_signed_in_unreachable(app, client, world, browser, asked=None):
    """A student's page once *Stay signed in* was pressed and its keep-alive lost on the way:
    (page, the warning). `asked`: the paths the page requests, with the page's clock installed."""
    _student(client, app, world, expires_in=WARN_S + DUE_S)
    page = open_page(browser, client, **({"requests": asked} if asked is not None else {}))
    if asked is not None:
        page.clock.install()
    page.goto(_essay_url(world))
    warning = page.locator("#session-warning")
    warning.get_by_text(SOON).wait_for(timeout=20_000)
    page.route(f"{BASE}/session/keep-alive", lambda route: route.abort())
    warning.get_by_role("button", name="Stay signed in").click()
    warning.get_by_text("Gradeloop could not be reached").wait_for()
    return page, warning


def test_stay_signed_in_that_cannot_reach_gradeloop_says_so(short_sessions, client, world, browser):
    """The keep-alive lost on the way (the connection dropped): the button looked broken. The page
    says Gradeloop could not be reached, when the session still ends, and offers to try again."""
    page, warning = _stay_signed_in_unreachable(short_sessions, client, world, browser)
    said = warning.inner_text()
    assert re.search(r"ends at \d{1,2}:\d\d", said) and "open Gradeloop again from your course" in said, said
    assert warning.locator(".notice").get_attribute("role") == "alert"
    assert page.evaluate("document.activeElement.textContent") == "Try again", "the button in the same place"

    page.unroute(f"{BASE}/session/keep-alive")
    warning.get_by_role("button", name="Try again").click()
    page.locator("#session-renewed").get_by_text("You stay signed in until").wait_for()
    assert warning.inner_text() == ""


def test_once_gradeloop_answers_again_the_warning_stops_saying_it_could_not_be_reached(short_sessions, client,
                                                                                      world, browser):
    """After a *Stay signed in* that did not get through, the page said "Gradeloop could not be
    reached" until the next keep-alive, though its reads of the end (every 30 s while a warning
    shows) were answered again (diffreview4)."""
    asked = []
    page, warning = _stay_signed_in_unreachable(short_sessions, client, world, browser, asked=asked)
    reads = asked.count("/session/end")
    page.clock.fast_forward(35_000)   # the next read of the end, which Gradeloop answers
    warning.get_by_text(SOON).wait_for()
    assert asked.count("/session/end") > reads
    assert "could not be reached" not in warning.inner_text()
    assert warning.get_by_role("button", name="Stay signed in").count() == 1


LMS = "http://lms.test/course"


def _in_a_fitted_lms_frame(app, world, page):
    """The essay page in an LMS page's frame already fitted to its content (what Canvas does on
    lti.frameResize), with more of the LMS page below. Like Canvas, the LMS page scrolls to the
    frame's top on lti.scrollToTop; `window.told` lists the subjects it was sent."""
    app.config["GRADELOOP_FRAME_ANCESTORS"] = ["http://lms.test"]
    page.route(f"{LMS}**", lambda route: route.fulfill(status=200, content_type="text/html", body=(
        '<html><body style="margin:0"><h1>Course</h1>'
        f'<iframe id="tool" src="{_essay_url(world)}" style="width:1000px;height:1800px;border:0"></iframe>'
        '<p style="height:1200px">Modules</p><script>window.told = [];'
        'addEventListener("message", function (e) { var subject = e.data && e.data.subject; told.push(subject);'
        ' if (subject === "lti.scrollToTop") document.getElementById("tool").scrollIntoView(); });'
        '</script></body></html>')))
    page.goto(LMS)
    return page.frame_locator("#tool")


def test_in_an_lms_frame_fitted_to_the_page_the_warning_is_brought_into_view(short_sessions, client, world,
                                                                              browser):
    """Canvas fits Gradeloop's frame to the page, so the frame never scrolls: a warning kept at the
    window's bottom edge was at the end of a long page, out of sight (diffreview3 #2). It is at the
    frame's top, and the LMS is asked to scroll there; the keyboard's focus stays where it was."""
    _student(client, short_sessions, world, expires_in=WARN_S + DUE_S)
    page = open_page(browser, client, height=900)
    frame = _in_a_fitted_lms_frame(short_sessions, world, page)
    frame.locator("#text").focus()
    page.evaluate("window.scrollTo(0, 1400)")   # the student reads the end of their draft
    frame.locator("#session-warning").get_by_text(SOON).wait_for(timeout=20_000)
    page.wait_for_function("window.told.includes('lti.scrollToTop')")
    box = frame.locator("#session-warning .notice").bounding_box()   # in the LMS window's coordinates
    assert 0 <= box["y"] and box["y"] + box["height"] <= 900, box
    assert frame.locator("#text").evaluate("el => el === document.activeElement"), "the warning takes no focus"


def test_a_warning_already_in_view_in_the_lms_frame_scrolls_nothing(short_sessions, client, world, browser):
    _student(client, short_sessions, world, expires_in=WARN_S + DUE_S)
    page = open_page(browser, client, height=900)
    frame = _in_a_fitted_lms_frame(short_sessions, world, page)
    frame.locator("#session-warning").get_by_text(SOON).wait_for(timeout=20_000)
    box = frame.locator("#session-warning .notice").bounding_box()
    assert 0 <= box["y"] and box["y"] + box["height"] <= 900, box
    time.sleep(0.5)
    assert "lti.scrollToTop" not in page.evaluate("window.told"), "the page the reader looks at does not jump"
