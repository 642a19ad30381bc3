"""Authorisation matrix and CSRF on coursework pages (Flask test client; sessions as a launch makes them)."""
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
    login(client, app, course_id=world.course_a, user_id=world.student1_a, role=Role.LEARNER)
    for name, url in _pages(world).items():
        assert client.get(url).status_code == 403, name


def test_learner_cannot_see_another_students_essay(client, app, world):
    login(client, app, course_id=world.course_a, user_id=world.student2_a, role=Role.LEARNER)
    page = client.get(f"/coursework/a/{world.assignment_a}/essay")
    assert page.status_code == 200
    assert b"My essay about things." not in page.data          # student1's text
    assert b"Not handed in yet" in page.data
    assert client.get(f"/coursework/a/{world.assignment_a}/essays/{world.essay_a}").status_code == 403


def test_learner_cannot_open_another_course(client, app, world):
    login(client, app, course_id=world.course_a, user_id=world.student1_a, role=Role.LEARNER)
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


def test_forged_cross_site_post_is_refused(client, app, world):
    """The victim's session cookie alone (what a cross-site form would send) is not enough."""
    login(client, app, course_id=world.course_a, user_id=world.teacher_a, role=Role.INSTRUCTOR)
    url = _pages(world)["grade"]
    for data in ({"score": "6", "comment": "forged"}, {"score": "6", "csrf_token": "0" * 64}):
        response = client.post(url, data=data, headers={"Origin": "https://evil.example"})
        assert response.status_code == 403
        assert b"not sent from a Gradeloop page" in response.data
    other = login(client, app, course_id=world.course_a, user_id=world.student1_a, role=Role.LEARNER)
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
    login(client, app, course_id=world.course_a, user_id=user, role=role)
    urls = ([_pages(world)[n] for n in ("grade", "settings", "import")] + ["/coursework/course/delete"]
            if role == Role.INSTRUCTOR else [f"/coursework/a/{world.assignment_a}/essay"])
    forms = 0
    for url in urls:
        html = client.get(url).get_data(as_text=True)
        for form in html.split("<form")[1:]:
            form = form.split("</form>")[0]
            if 'method="post"' in form:
                forms += 1
                assert 'name="csrf_token" value="' in form and 'name="lt" value="' in form, url
    assert forms >= len(urls)


def test_launch_token_works_without_cookie(app, world):
    """Third-party cookies blocked: the signed `lt` in links carries the session."""
    client = app.test_client()
    login(client, app, course_id=world.course_a, user_id=world.teacher_a, role=Role.INSTRUCTOR)
    html = client.get(f"/coursework/a/{world.assignment_a}").get_data(as_text=True)
    link = html.split(f'href="/coursework/a/{world.assignment_a}/settings?lt=')[1].split('"')[0]
    cookieless = app.test_client(use_cookies=False)
    assert cookieless.get(f"/coursework/a/{world.assignment_a}/settings?lt={link}").status_code == 200
    assert cookieless.get(f"/coursework/a/{world.assignment_a}/settings?lt=forged").status_code == 401


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
