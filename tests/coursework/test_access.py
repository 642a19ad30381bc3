"""Authorisation matrix and CSRF on coursework pages (Flask test client; sessions as a launch makes them)."""
import re
import time

import pytest

from lti_app.extensions import db
from lti_app.models import Grade, Role, Submission
from tests.coursework.helpers import count, login


def _pages(w, course="a"):
    a, e = getattr(w, f"assignment_{course}"), getattr(w, f"essay_{course}")
    return {
        "submissions": f"/coursework/a/{a}",
        "grade": f"/coursework/a/{a}/essays/{e}",
        "settings": f"/coursework/a/{a}/settings",
        "edit": f"/coursework/a/{a}/edit",
        "import": f"/coursework/a/{a}/import",
        "export": "/coursework/course/export.csv",
        "course": "/coursework/course",
    }


def test_no_session_is_401(client, world):
    for url in _pages(world).values():
        response = client.get(url)
        assert response.status_code == 401, url
        assert b"Open Gradeloop again from your course" in response.data


def test_learner_cannot_open_grading_pages(client, app, world):
    login(client, app, course_id=world.course_a, user_id=world.student1_a, role=Role.LEARNER, resource_link_id=world.link_a)
    for name, url in _pages(world).items():
        assert client.get(url).status_code == 403, name


def test_learner_cannot_see_another_students_essay(client, app, world):
    login(client, app, course_id=world.course_a, user_id=world.student2_a, role=Role.LEARNER, resource_link_id=world.link_a)
    page = client.get(f"/coursework/a/{world.assignment_a}/essay")
    assert page.status_code == 200
    assert b"My essay about things." not in page.data          # student1's text
    assert b"Not handed in yet" in page.data
    assert client.get(f"/coursework/a/{world.assignment_a}/essays/{world.essay_a}").status_code == 403


def test_learner_reaches_only_the_assignment_of_the_link_launched(client, app, world):
    """A student of course A launched essay A's link; editing the id in the URL to another assignment
    of the same course (hidden, not yet released, or for another group in the LMS) reaches nothing."""
    with app.app_context():
        from lti_app.models import Assignment, ResourceLink
        link = ResourceLink(course_id=world.course_a, resource_link_id="rl-hidden", title="Hidden essay")
        db.session.add(link)
        db.session.flush()
        hidden = Assignment(course_id=world.course_a, resource_link_id=link.id, title="Hidden essay", prompt="Later.",
                            score_min=1, score_max=6, resource_id="res-hidden")
        db.session.add(hidden)
        db.session.commit()
        hidden_id = hidden.id
    token = login(client, app, course_id=world.course_a, user_id=world.student2_a, role=Role.LEARNER,
                  resource_link_id=world.link_a)
    page = client.get(f"/coursework/a/{hidden_id}/essay")
    assert page.status_code == 404 and b"Open it from its own link" in page.data
    assert b"Later." not in page.data
    posted = client.post(f"/coursework/a/{hidden_id}/essay", data={"csrf_token": token, "text": "An essay. " * 20})
    assert posted.status_code == 404
    assert client.get(f"/coursework/a/{world.assignment_a}/essay").status_code == 200   # its own link's
    with app.app_context():
        assert count(Submission, assignment_id=hidden_id) == 0


def test_learner_cannot_open_another_course(client, app, world):
    login(client, app, course_id=world.course_a, user_id=world.student1_a, role=Role.LEARNER, resource_link_id=world.link_a)
    assert client.get(f"/coursework/a/{world.assignment_b}/essay").status_code == 404


def test_instructor_of_a_cannot_see_course_b(client, app, world):
    login(client, app, course_id=world.course_a, user_id=world.teacher_a, role=Role.INSTRUCTOR)
    for name, url in _pages(world, "b").items():
        if name in ("export", "course"):
            continue   # course-wide pages are always the launch's own course
        response = client.get(url)
        assert response.status_code == 404, name
        assert b"My essay about things." not in response.data
    # an essay of B addressed through A's assignment
    assert client.get(f"/coursework/a/{world.assignment_a}/essays/{world.essay_b}").status_code == 404
    export = client.get("/coursework/course/export.csv")
    assert export.status_code == 200 and b"Essay a" in export.data and b"Essay b" not in export.data
    token = login(client, app, course_id=world.course_a, user_id=world.teacher_a, role=Role.INSTRUCTOR)
    posted = client.post(f"/coursework/a/{world.assignment_b}/essays/{world.essay_b}",
                         data={"csrf_token": token, "score": "5"})
    assert posted.status_code == 404
    with app.app_context():
        assert count(Grade) == 0


def test_instructor_sees_own_course_pages(client, app, world):
    login(client, app, course_id=world.course_a, user_id=world.teacher_a, role=Role.INSTRUCTOR)
    for name, url in _pages(world).items():
        assert client.get(url).status_code == 200, name


def test_ta_can_grade_but_not_delete_course_data(client, app, world):
    token = login(client, app, course_id=world.course_a, user_id=world.ta_a, role=Role.TA)
    assert client.get(_pages(world)["grade"]).status_code == 200
    assert client.get("/coursework/course/delete").status_code == 403
    assert client.post("/coursework/course/delete", data={"csrf_token": token, "confirm": "DELETE"}).status_code == 403


def test_expired_session_is_refused(client, app, world):
    login(client, app, course_id=world.course_a, user_id=world.teacher_a, role=Role.INSTRUCTOR, expires_in=-1)
    assert client.get(_pages(world)["submissions"]).status_code == 401


def test_an_essay_sent_after_the_session_ended_is_shown_back(client, app, world):
    """The session ends at a fixed time: an essay written in one long sitting is refused, but the
    page gives it back to copy (never for a cross-site form), and nothing is stored."""
    essay = "A long essay written in one sitting. " * 40
    url = f"/coursework/a/{world.assignment_a}/essay"
    token = login(client, app, course_id=world.course_a, user_id=world.student2_a, role=Role.LEARNER,
                  resource_link_id=world.link_a, expires_in=-1)
    refused = client.post(url, data={"csrf_token": token, "text": essay}, headers={"Origin": "http://localhost"})
    page = refused.get_data(as_text=True)
    assert refused.status_code == 403 and "your session has ended" in page
    assert re.search(r'<textarea id="kept-text"[^>]*readonly[^>]*>' + re.escape(essay.strip()) + "</textarea>", page)
    forged = client.post(url, data={"csrf_token": token, "text": essay}, headers={"Origin": "https://evil.example"})
    assert forged.status_code == 403 and 'id="kept-text"' not in forged.get_data(as_text=True)
    # Behind a TLS proxy the browser's origin is the public URL, not the host the app sees.
    app.config["GRADELOOP_PUBLIC_URL"] = "https://gradeloop.example"
    proxied = client.post(url, data={"csrf_token": token, "text": essay},
                          headers={"Origin": "https://gradeloop.example"})
    assert proxied.status_code == 403 and 'id="kept-text"' in proxied.get_data(as_text=True)
    with app.app_context():
        assert count(Submission) == 2


def test_forged_cross_site_post_is_refused(client, app, world):
    """The victim's session cookie alone (what a cross-site form would send) is not enough."""
    login(client, app, course_id=world.course_a, user_id=world.teacher_a, role=Role.INSTRUCTOR)
    url = _pages(world)["grade"]
    for data in ({"score": "6", "comment": "forged"}, {"score": "6", "csrf_token": "0" * 64},
                 {"score": "6", "csrf_token": "é"}):
        response = client.post(url, data=data, headers={"Origin": "https://evil.example"})
        assert response.status_code == 403
        assert b"Nothing was saved: your session has ended" in response.data
    other = login(client, app, course_id=world.course_a, user_id=world.student1_a, role=Role.LEARNER, resource_link_id=world.link_a)
    login(client, app, course_id=world.course_a, user_id=world.teacher_a, role=Role.INSTRUCTOR)
    assert client.post(url, data={"score": "6", "csrf_token": other}).status_code == 403  # another launch's token
    response = client.post("/coursework/course/delete", data={"confirm": "DELETE"})
    assert response.status_code == 403
    with app.app_context():
        assert count(Grade) == 0
        assert count(Submission) == 2


@pytest.mark.parametrize("role", [Role.INSTRUCTOR, Role.LEARNER])
def test_every_form_carries_csrf_and_launch_token(client, app, world, role):
    user = world.teacher_a if role == Role.INSTRUCTOR else world.student2_a
    login(client, app, course_id=world.course_a, user_id=user, role=role, resource_link_id=world.link_a)
    urls = ([_pages(world)[n] for n in ("grade", "settings", "import")] + ["/coursework/course/delete"]
            if role == Role.INSTRUCTOR else [f"/coursework/a/{world.assignment_a}/essay"])
    forms = 0
    for url in urls:
        html = client.get(url).get_data(as_text=True)
        for form in html.split("<form")[1:]:
            form = form.split("</form>")[0]
            if 'method="post"' in form:
                forms += 1
                # The cookie carries the launch: forms name it by id (the token is not needed).
                assert 'name="csrf_token" value="' in form and 'name="launch" value="' in form, url
    assert forms >= len(urls)


def _token(app, **launch):
    from lti_app.auth import LaunchContext, launch_token

    ctx = LaunchContext(launch_id="t" * 32, platform_id=1, role=Role.INSTRUCTOR.value, expires_at=time.time() + 600,
                        **launch)
    with app.test_request_context():
        return launch_token(ctx)


def test_launch_token_works_without_cookie(app, world):
    """Third-party cookies blocked: the signed `lt` in links and forms carries the session."""
    cookieless = app.test_client(use_cookies=False)
    token = _token(app, course_id=world.course_a, user_id=world.teacher_a)
    page = cookieless.get(f"/coursework/a/{world.assignment_a}?lt={token}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    link = html.split(f'href="/coursework/a/{world.assignment_a}/settings?lt=')[1].split('"')[0]
    assert cookieless.get(f"/coursework/a/{world.assignment_a}/settings?lt={link}").status_code == 200
    assert 'name="lt" value="' in cookieless.get(f"/coursework/a/{world.assignment_a}/settings?lt={link}").get_data(
        as_text=True)
    assert cookieless.get(f"/coursework/a/{world.assignment_a}/settings?lt=forged").status_code == 401


def test_a_link_carrying_someone_elses_session_is_refused_where_the_cookie_holds_another_person(
        client, app, world):
    """A classmate's copied link (its `lt`) put the classmate's session in this browser: the essay
    handed in there was stored as theirs, and they could read it."""
    victim_csrf = login(client, app, course_id=world.course_a, user_id=world.student2_a, role=Role.LEARNER,
                        resource_link_id=world.link_a)
    from lti_app.auth import LaunchContext, launch_token

    ctx = LaunchContext(launch_id="c" * 32, platform_id=1, course_id=world.course_a, user_id=world.student1_a,
                        role=Role.LEARNER.value, resource_link_id=world.link_a, expires_at=time.time() + 600)
    with app.test_request_context():
        theirs = launch_token(ctx)
    essay = f"/coursework/a/{world.assignment_a}/essay"
    opened = client.get(f"{essay}?lt={theirs}")
    assert opened.status_code == 403 and "someone else" in opened.get_data(as_text=True)
    assert "My essay about things." not in opened.get_data(as_text=True)   # the classmate's essay
    assert "Student1 A" not in opened.get_data(as_text=True)               # nor their name
    with app.app_context():
        before = count(Submission)
    sent = client.post(f"{essay}?lt={theirs}", data={"lt": theirs, "text": "The victim's own essay, typed here.",
                                                       "csrf_token": victim_csrf})
    assert sent.status_code == 403
    with app.app_context():
        assert count(Submission) == before
    # The person's own session, and a cookieless browser's token, work as before.
    assert client.get(essay).status_code == 200
    assert app.test_client(use_cookies=False).get(f"{essay}?lt={theirs}").status_code == 200


def test_urls_hold_no_credential_once_the_cookie_works(app, world):
    """With the cookie, links name the launch by id: such a URL (history on a shared computer, a
    copied address, a proxy log) opens nothing without that cookie; a GET that arrived with the
    token is sent to the same page without it."""
    client = app.test_client()
    login(client, app, course_id=world.course_a, user_id=world.teacher_a, role=Role.INSTRUCTOR, launch_id="a" * 32)
    html = client.get(f"/coursework/a/{world.assignment_a}").get_data(as_text=True)
    assert "lt=" not in html and f"settings?launch={'a' * 32}" in html
    assert client.get(f"/coursework/a/{world.assignment_a}/settings?launch={'a' * 32}").status_code == 200
    stranger = app.test_client(use_cookies=False)
    assert stranger.get(f"/coursework/a/{world.assignment_a}/settings?launch={'a' * 32}").status_code == 401
    assert client.get(f"/coursework/a/{world.assignment_a}/settings?launch={'b' * 32}").status_code == 401
    # A token for the launch the cookie holds (the landing after a launch) leaves the address bar.
    token = _token(app, course_id=world.course_a, user_id=world.teacher_a)
    with client.session_transaction() as sess:
        sess["gl_launches"] = {"t" * 32: {**sess["gl_launch"], "launch_id": "t" * 32}}
    moved = client.get(f"/coursework/a/{world.assignment_a}?sort=name&lt={token}")
    assert moved.status_code == 303
    assert moved.headers["Location"] == f"/coursework/a/{world.assignment_a}?sort=name&launch={'t' * 32}"


def test_two_tabs_keep_their_own_launch(peer, tool_server):
    """Two launches from two courses in one browser: each tab's links keep naming its own launch."""
    from lti_app.models import Assignment, Course
    from tests.coursework.flows import open_assignment, post_form

    browser = peer.browser()
    _, first = open_assignment(peer, tool_server, role="Instructor", user_id="teacher-1", course_id="course-1",
                               browser=browser)
    _, second = open_assignment(peer, tool_server, role="Instructor", user_id="teacher-1", course_id="course-2",
                                browser=browser)
    assert "launch=" in first.url and "launch=" in second.url and "lt=" not in first.url + second.url
    # The first tab's form, sent after the second launch, still acts in the first course.
    done = post_form(browser, first, {"title": "Tab one essay", "prompt": "Argue.", "score_min": "1", "score_max": "6"},
                     action_contains="/setup")
    assert done.status_code == 200 and "The assignment is ready" in done.text
    with tool_server.app.app_context():
        made = db.session.scalar(db.select(Assignment).filter_by(title="Tab one essay"))
        assert db.session.get(Course, made.course_id).context_id == "course-1"


def test_notices_cannot_be_forged(client, app, world):
    """Notices ride in the URL signed; a crafted one (phishing text) is not shown."""
    login(client, app, course_id=world.course_a, user_id=world.teacher_a, role=Role.INSTRUCTOR)
    page = client.get(f"/coursework/a/{world.assignment_a}?notice=W1siZXJyb3IiLCJDYWxsIDEyMyJdXQ")
    assert page.status_code == 200 and "Call 123" not in page.get_data(as_text=True)
    with app.test_request_context():
        from lti_app.coursework import notices

        token = notices._serializer().dumps([["success", "Settings saved."]])
    shown = client.get(f"/coursework/a/{world.assignment_a}?notice={token}").get_data(as_text=True)
    assert "Settings saved." in shown
