"""Valid launches through the sandbox platform over real HTTP: each role lands on its page with
its content, and the course, user, role and resource link rows exist afterwards."""
from __future__ import annotations

import time
from urllib.parse import urljoin, urlparse

import pytest

from lti_app.extensions import db
from lti_app.lti.deep_linking_state import deep_linking_settings
from lti_app.models import Course, CourseRole, ResourceLink, Role, User
from tests.lti.conftest import SESSION_COOKIE, page_text


def _landing(result, tool_server, path, final):
    first = result.response.history[0] if result.response.history else result.response
    assert first.status_code == 303, (first.status_code, first.text[:800])
    location = first.headers["Location"]
    assert urlparse(location).path == path
    assert "start=" in location and "lt=" not in location
    assert result.response.status_code == 200
    assert urlparse(result.response.url).path == final, result.response.url
    return page_text(result.response)


@pytest.mark.parametrize("role, expected, final, words", [
    # A link added by hand has no assignment yet: a grader lands on its set-up, a learner is told.
    ("Instructor", Role.INSTRUCTOR, "/coursework/setup", "Set up this essay assignment"),
    ("TA", Role.TA, "/coursework/setup", "Set up this essay assignment"),
    ("Administrator", Role.ADMINISTRATOR, "/coursework/setup", "Set up this essay assignment"),
    ("Learner", Role.LEARNER, "/coursework/", "This assignment is not ready yet"),
])
def test_role_launch_opens_the_activity(peer, tool_server, role, expected, final, words):
    peer.add_resource_link("course-1", "rl-essay", title="Persuasive essay 1")
    result = peer.launch(role=role, user_id=f"user-{role}", resource_link_id="rl-essay")
    assert words in _landing(result, tool_server, "/coursework/", final)
    # The role page stays reachable in the same session and names the course and the activity.
    role_page = page_text(result.browser.get(
        tool_server.url + ("/lti/learner" if expected is Role.LEARNER else "/lti/instructor"), timeout=30))
    assert "Course course-1" in role_page
    assert "Persuasive essay 1" in role_page
    if expected is Role.LEARNER:
        assert "Your work for this assignment" in role_page
        assert "Welcome, " in role_page
    else:
        assert "You opened Gradeloop from" in role_page
    with tool_server.app.app_context():
        course = db.session.scalar(db.select(Course).filter_by(context_id="course-1"))
        user = db.session.scalar(db.select(User).filter_by(sub=f"user-{role}"))
        membership = db.session.scalar(db.select(CourseRole).filter_by(course_id=course.id, user_id=user.id))
        link = db.session.scalar(db.select(ResourceLink).filter_by(course_id=course.id,
                                                                    resource_link_id="rl-essay"))
        assert membership.role is expected
        assert link.title == "Persuasive essay 1"
        assert course.title == "Course course-1"
        assert course.ags_lineitems_url == f"{peer.url}/api/lti/courses/course-1/lineitems"
        assert course.nrps_url == f"{peer.url}/api/lti/courses/course-1/memberships"
        assert user.name and user.email.endswith("@sandbox.example")


def test_session_cookie_and_token_both_carry_the_launch(peer, tool_server):
    result = peer.launch(role="Learner", user_id="s1")
    assert SESSION_COOKIE in result.browser.cookies
    # A browser that refuses the cookie goes on from the landing URL with the signed token.
    landing = urljoin(tool_server.url, result.response.history[0].headers["Location"])
    fresh = peer.browser()
    page = fresh.get(landing, timeout=30)
    assert page.status_code == 200 and "lt=" in page.url and "start=" not in page.url
    assert fresh.get(tool_server.url + "/lti/learner", timeout=30).status_code == 401
    # The browser that keeps the cookie ends on a URL that names the launch but is no credential.
    assert "launch=" in result.response.url and "lt=" not in result.response.url
    assert peer.browser().get(result.response.url, timeout=30).status_code == 401


def test_the_landing_url_expires(peer, tool_server, monkeypatch):
    """The one URL of a launch that carries the context (what a shared computer's history keeps)
    works for START_SECONDS only."""
    from lti_app import auth

    result = peer.launch(role="Learner", user_id="s1")
    landing = urljoin(tool_server.url, result.response.history[0].headers["Location"])
    monkeypatch.setattr(auth, "START_SECONDS", 0)
    time.sleep(1.1)
    assert peer.browser().get(landing, timeout=30).status_code == 401


def test_learner_cannot_open_instructor_page(peer, tool_server):
    result = peer.launch(role="Learner", user_id="s2")
    assert result.browser.get(tool_server.url + "/lti/instructor", timeout=30).status_code == 403


def test_relaunch_updates_role_and_reuses_rows(peer, tool_server):
    browser = peer.browser()
    peer.launch(browser, role="Learner", user_id="u9")
    peer.launch(browser, role="Instructor", user_id="u9")
    with tool_server.app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(User)) == 1
        assert db.session.scalar(db.select(CourseRole.role)) is Role.INSTRUCTOR


def test_deep_linking_launch_reaches_picker_and_keeps_settings(peer, tool_server):
    result = peer.deep_link(role="Instructor")
    text = _landing(result, tool_server, "/lti/deep-link", "/lti/deep-link")
    assert "Add a Gradeloop activity" in text
    assert "asked for" not in text   # "The LMS asked for: Gradeloop." (the settings' default title) told nothing
    settings_claim = result.claims["https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"]
    with tool_server.app.app_context():
        from lti_app.models import DeepLinkingRequest

        row = db.session.scalar(db.select(DeepLinkingRequest))
        assert deep_linking_settings(row.launch_id) == settings_claim
        assert row.deployment_id == peer.deployment_id
        assert deep_linking_settings("no-such-launch") is None


def test_learner_deep_linking_launch_is_refused(peer, tool_server):
    result = peer.deep_link(role="Learner", user_id="s3")
    assert result.response.status_code == 403
    assert "Only the course's teachers" in page_text(result.response)


def test_unsupported_role_is_refused(peer, tool_server):
    result = peer.launch(role="Mentor", user_id="m1")
    assert result.response.status_code == 403
    assert "role" in page_text(result.response)


def test_two_pending_logins_in_one_browser_both_succeed(peer, tool_server):
    """Two tabs: the binding cookie is reused, so the first login's state still matches."""
    from lti_app.sandbox.oidc import initiation_params, start_launch

    browser = peer.browser()
    spec = start_launch(peer.state, user_id="t2", course_id="course-1", role="Instructor")
    first = browser.get(peer.state.tool.login_url, params=initiation_params(peer.state, spec),
                        allow_redirects=False, timeout=30)
    second = peer.launch(browser, role="Instructor", user_id="t2")
    assert second.response.status_code == 200
    auth = browser.get(first.headers["Location"], timeout=30)
    form = peer.submit_form(auth, browser, with_field="state")
    assert form.status_code == 200 and "/coursework/" in form.url


def test_launch_without_name_keeps_the_known_name(peer, tool_server):
    browser = peer.browser()
    peer.launch(browser, role="Learner", user_id="s5")
    peer.launch(browser, role="Learner", user_id="s5", drop_claims=("name", "given_name", "family_name", "email"))
    with tool_server.app.app_context():
        user = db.session.scalar(db.select(User).filter_by(sub="s5"))
        assert user.name and user.email


def test_concurrent_first_launches_create_each_row_once(peer, tool_server):
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(6) as pool:
        results = list(pool.map(lambda i: peer.launch(role="Learner", user_id="same-student",
                                                      course_id="new-course", resource_link_id="rl-new"),
                                range(6)))
    assert [r.response.status_code for r in results] == [200] * 6
    with tool_server.app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(User)) == 1
        assert db.session.scalar(db.select(db.func.count()).select_from(CourseRole)) == 1
        assert db.session.scalar(db.select(db.func.count()).select_from(Course)) == 1
        assert db.session.scalar(db.select(db.func.count()).select_from(ResourceLink)) == 1


def test_relaunch_picks_up_renamed_course_and_link(peer, tool_server):
    LTI = "https://purl.imsglobal.org/spec/lti/claim/"
    browser = peer.browser()
    peer.launch(browser, role="Learner", user_id="s6")
    peer.launch(browser, role="Learner", user_id="s6")            # unchanged: the one-SELECT path
    peer.launch(browser, role="Learner", user_id="s6", claims={
        LTI + "context": {"id": "course-1", "title": "Renamed course", "label": "R-1"},
        LTI + "resource_link": {"id": "rl-1", "title": "Renamed essay"}})
    with tool_server.app.app_context():
        assert db.session.scalar(db.select(Course.title)) == "Renamed course"
        assert db.session.scalar(db.select(ResourceLink.title)) == "Renamed essay"
        assert db.session.scalar(db.select(db.func.count()).select_from(ResourceLink)) == 1


def test_without_the_coursework_feature_a_launch_lands_on_the_role_page(peer, tool_server):
    from lti_app.lti.pages import has_endpoint

    app = tool_server.app
    with app.test_request_context():
        assert has_endpoint("lti.instructor_home") and not has_endpoint("coursework.no_such_page")
    result = peer.launch(role="Instructor")
    assert "/coursework/" in result.response.url
    role_page = page_text(result.browser.get(tool_server.url + "/lti/instructor", timeout=30))
    assert "Open the assignment" in role_page
    # Without the endpoint the launch lands on the role page, which renders without the link.
    view = app.view_functions.pop("coursework.assignment_home", None)
    try:
        result = peer.launch(role="Instructor", user_id="t9")
        assert urlparse(result.response.url).path == "/lti/instructor"
        assert "The assignment for this activity will appear here." in page_text(result.response)
    finally:
        if view is not None:
            app.view_functions["coursework.assignment_home"] = view
