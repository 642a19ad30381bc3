"""An LMS that registers Gradeloop again (a new client id, the same issuer): the registration page
names the older registration that holds its courses, and `gradeloop platform move-courses` moves
them, so launches through the new registration find them instead of empty courses."""
from __future__ import annotations

import functools
import threading
import time

import pytest

from lti_app.cli import main
from lti_app.extensions import db
from lti_app.models import Assignment, Course, CourseRole, Role, Submission, User
from lti_app.platforms import upsert_platform
from tests.lti.test_registration import CONFIG_PATH, FakeMoodle, allow, register_at

ISS = "https://moodle.school.example"


def _platform(client_id: str) -> int:
    return upsert_platform(issuer=ISS, client_id=client_id, deployment_ids=["1"], auth_login_url=ISS + "/auth",
                           auth_token_url=ISS + "/token", key_set_url=ISS + "/jwks").id


def _course(platform_id: int, context_id: str, *, assignment: str | None = None) -> int:
    course = Course(platform_id=platform_id, context_id=context_id, title=context_id)
    db.session.add(course)
    db.session.flush()
    if assignment:
        db.session.add(Assignment(course_id=course.id, title=assignment, resource_id=f"res-{course.id}"))
    db.session.commit()
    return course.id


def _person(platform_id: int, sub: str, course_id: int, role=Role.LEARNER) -> int:
    user = User(platform_id=platform_id, sub=sub, name=sub)
    db.session.add(user)
    db.session.flush()
    db.session.add(CourseRole(course_id=course_id, user_id=user.id, role=role))
    db.session.commit()
    return user.id


def _move(app, old: int, new: int):
    return app.test_cli_runner().invoke(main, ["platform", "move-courses", str(old), str(new)])


def test_the_registration_page_names_the_registration_that_holds_the_courses(tool_server):
    from lti_app.models import Platform

    answer = {}   # what the fake Moodle answers to a registration, changed below
    with FakeMoodle(answer_changes=answer) as moodle:
        allow(tool_server, moodle.url)
        assert register_at(tool_server, moodle.url + CONFIG_PATH).status_code == 200
        with tool_server.app.app_context():
            old = db.session.scalar(db.select(Platform.id).filter_by(issuer=moodle.url))
            _course(old, "course-12", assignment="Essay 1")
        renewed = register_at(tool_server, moodle.url + CONFIG_PATH)
        assert renewed.status_code == 200 and "registered with Gradeloop before" not in renewed.text   # the same one
        answer["client_id"] = "moodle-client-8"   # the tool deleted in Moodle and added again
        page = register_at(tool_server, moodle.url + CONFIG_PATH)
    assert page.status_code == 200, page.text[:800]
    with tool_server.app.app_context():
        new = db.session.scalar(db.select(Platform.id).filter_by(client_id="moodle-client-8"))
    said = " ".join(page.text.split())
    assert "holds 1 course of this LMS" in said and f"gradeloop platform move-courses {old} {new}" in said


def test_move_courses_carries_courses_and_people_and_merges_the_empty_copies(app):
    with app.app_context():
        old = _platform("client-7")
        kept = _course(old, "course-12", assignment="Essay 1")
        other = _course(old, "course-13")
        student = _person(old, "u-5", kept)
        teacher = _person(old, "u-1", kept, Role.INSTRUCTOR)
        db.session.add(Submission(assignment_id=db.session.scalar(db.select(Assignment.id)), user_id=student,
                                  text="An essay.", word_count=2))
        db.session.commit()
        new = _platform("client-8")
        # The teacher launched through the new registration and found the course empty.
        empty_twin = _course(new, "course-12")
        twin_teacher = _person(new, "u-1", empty_twin, Role.INSTRUCTOR)
        elsewhere = _course(new, "course-99", assignment="New course's essay")
        db.session.add(CourseRole(course_id=elsewhere, user_id=twin_teacher, role=Role.INSTRUCTOR))
        db.session.commit()
    out = _move(app, old, new)
    assert out.exit_code == 0, out.output
    assert "moved 2 course(s) and 2 person(s)" in out.output
    with app.app_context():
        assert {c.context_id: c.id for c in db.session.scalars(db.select(Course).filter_by(platform_id=new))} == {
            "course-12": kept, "course-13": other, "course-99": elsewhere}
        # The empty copies are retired to the old registration (their ids are never handed out again).
        assert {(c.id, c.platform_id) for c in db.session.scalars(db.select(Course).filter_by(platform_id=old))} == {
            (empty_twin, old)}
        assert [u.id for u in db.session.scalars(db.select(User).filter_by(platform_id=old))] == [twin_teacher]
        assert {u.sub: u.id for u in db.session.scalars(db.select(User).filter_by(platform_id=new))} == {
            "u-5": student, "u-1": teacher}
        roles = {(r.course_id, r.user_id) for r in db.session.scalars(db.select(CourseRole))}
        assert roles == {(kept, student), (kept, teacher), (elsewhere, teacher)}
        assert db.session.scalar(db.select(Submission.user_id)) == student
    assert "moved 0 course(s) and 0 person(s)" in _move(app, old, new).output   # nothing left to move


def test_two_copies_with_assignments_are_not_merged_and_nothing_moves(app):
    with app.app_context():
        old = _platform("client-7")
        _course(old, "course-12", assignment="Essay 1")
        _person(old, "u-1", db.session.scalar(db.select(Course.id)), Role.INSTRUCTOR)
        new = _platform("client-8")
        _course(new, "course-12", assignment="Essay 1 again")
        other_iss = upsert_platform(issuer="https://canvas.example", client_id="c", deployment_ids=["1"],
                                    auth_login_url="https://canvas.example/a", auth_token_url="https://canvas.example/t",
                                    key_set_url="https://canvas.example/k").id
    out = _move(app, old, new)
    assert out.exit_code != 0 and "nothing moved" in out.output and "course-12" in out.output
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Course).filter_by(platform_id=old)) == 1
        assert db.session.scalar(db.select(db.func.count()).select_from(User).filter_by(platform_id=old)) == 1
    refused = _move(app, old, other_iss)
    assert refused.exit_code != 0 and "different LMSs" in refused.output
    assert _move(app, old, old).exit_code != 0


CANVAS = "https://canvas.instructure.com"


def _canvas(client_id: str, deployment: str) -> int:
    sso = "https://sso.canvaslms.com"
    return upsert_platform(issuer=CANVAS, client_id=client_id, deployment_ids=[deployment], auth_login_url=sso + "/a",
                           auth_token_url=sso + "/t", key_set_url=sso + "/k").id


def test_another_school_on_canvas_cloud_is_not_an_earlier_registration(app):
    from lti_app.models import Platform
    from lti_app.reregistration import earlier_with_courses

    with app.app_context():
        # Every Canvas cloud school has this issuer (and the same login and token URLs).
        other_school = _canvas("10000000000001", "7:abc")
        _course(other_school, "their-course", assignment="Their essay")
        _person(other_school, "their-teacher", db.session.scalar(db.select(Course.id)), Role.INSTRUCTOR)
        school = _canvas("10000000000002", "9:def")
        assert earlier_with_courses(db.session.get(Platform, school)) == []
        same_install = _canvas("10000000000003", "7:abc")   # a deployment id is one Canvas install
        assert [p.id for p, _ in earlier_with_courses(db.session.get(Platform, same_install))] == [other_school]
    refused = _move(app, other_school, school)
    assert refused.exit_code != 0 and "--same-school" in refused.output
    with app.app_context():
        assert db.session.scalar(db.select(Course.platform_id)) == other_school
    confirmed = app.test_cli_runner().invoke(main, ["platform", "move-courses", str(other_school), str(school),
                                                    "--same-school"])
    assert confirmed.exit_code == 0, confirmed.output
    with app.app_context():
        assert db.session.scalar(db.select(Course.platform_id)) == school


def test_the_registration_page_names_no_other_registration_and_waits_for_done(tool_server):
    answer = {}
    with FakeMoodle(answer_changes=answer) as moodle:
        allow(tool_server, moodle.url)
        first = register_at(tool_server, moodle.url + CONFIG_PATH)
        assert first.status_code == 200 and 'id="registration-done"' not in first.text   # closes at once
        with tool_server.app.app_context():
            from lti_app.models import Platform

            old = db.session.scalar(db.select(Platform).filter_by(issuer=moodle.url))
            old_client = old.client_id
            _course(old.id, "course-12", assignment="Essay 1")
        answer["client_id"] = "moodle-client-8"
        page = register_at(tool_server, moodle.url + CONFIG_PATH)
    assert page.status_code == 200 and old_client not in page.text and "data-earlier-platform" not in page.text
    assert 'id="registration-done"' in page.text and "gradeloop platform move-courses" in page.text


def _answer(html: str, route) -> None:
    route.fulfill(body=html, content_type="text/html") if route.request.url.endswith("/register") else route.abort()


@pytest.mark.browser
def test_the_re_registration_warning_stays_until_done_is_pressed(app, chromium_path):
    from flask import render_template
    from playwright.sync_api import sync_playwright

    from lti_app.models import Platform
    from tests.browser import CHROMIUM_ARGS

    with app.app_context():
        old, new = _platform("client-7"), _platform("client-8")
        _course(old, "course-12")
        with app.test_request_context():
            from lti_app.reregistration import earlier_with_courses

            platform = db.session.get(Platform, new)
            pages = {"warned": render_template("lti/registered.html", platform=platform,
                                               earlier=earlier_with_courses(platform)),
                     "plain": render_template("lti/registered.html", platform=platform, earlier=[])}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        try:
            sent = {}
            for name, html in pages.items():
                page = browser.new_page()
                page.set_default_timeout(5_000)
                page.add_init_script("window.sent = []; addEventListener('message', e => sent.push(e.data.subject));")
                page.route("http://gradeloop.test/**", functools.partial(_answer, html))
                page.goto("http://gradeloop.test/lti/register")
                page.wait_for_timeout(300)   # a postMessage arrives in a later task
                sent[name] = page.evaluate("window.sent")
                if name == "warned":
                    assert page.get_by_role("note").is_visible()
                    page.get_by_role("button", name="Done").click()
                    page.wait_for_function("window.sent.length > 0")
                    sent["after done"] = page.evaluate("window.sent")
        finally:
            browser.close()
    assert sent == {"plain": ["org.imsglobal.lti.close"], "warned": [],
                    "after done": ["org.imsglobal.lti.close"]}


def test_the_empty_copies_keep_their_ids_so_no_session_reaches_someone_else(app):
    from lti_app.models import Platform
    from tests.coursework.helpers import login

    with app.app_context():
        old = _platform("client-7")
        kept = _course(old, "course-12", assignment="Essay 1")
        _person(old, "u-1", kept, Role.INSTRUCTOR)
        new = _platform("client-8")
        twin = _course(new, "course-12")   # the newest rows: SQLite would hand their ids out again
        twin_teacher = _person(new, "u-1", twin, Role.INSTRUCTOR)
    assert _move(app, old, new).exit_code == 0
    with app.app_context():
        stranger_course = _course(new, "course-77")
        stranger = _person(new, "u-77", stranger_course, Role.INSTRUCTOR)
        assert (stranger_course, stranger) != (twin, twin_teacher)
        retired = db.session.get(User, twin_teacher)
        assert retired is not None and retired.sub != "u-1" and retired.platform_id == old
        assert db.session.get(Course, twin).context_id != "course-12"
        assert db.session.get(Platform, old).disabled_at is not None
    client = app.test_client()
    login(client, app, course_id=twin, user_id=twin_teacher, role=Role.INSTRUCTOR, platform_id=new)
    assert client.get("/lti/instructor").status_code in (401, 403)   # the teacher opens Gradeloop again
    # Someone only the new registration knew, whose session was in the emptied copy: their row
    # moved with the rest, the copy stayed behind, and the session is refused, not shown an empty course.
    with app.app_context():
        newcomer_course = _course(new, "course-31")
        newcomer = _person(new, "u-31", newcomer_course, Role.INSTRUCTOR)
        stale = _course(new, "course-32")
    client = app.test_client()
    login(client, app, course_id=newcomer_course, user_id=newcomer, role=Role.INSTRUCTOR, platform_id=new)
    assert client.get("/lti/instructor").status_code == 200
    with app.app_context():   # what the move does to a retired copy: off to the old registration
        db.session.get(Course, stale).platform_id = old
        db.session.commit()
    login(client, app, course_id=stale, user_id=newcomer, role=Role.INSTRUCTOR, platform_id=new)
    assert client.get("/lti/instructor").status_code == 401


def test_the_old_registration_is_disabled_after_the_move(app):
    from lti_app.models import Platform

    with app.app_context():
        old = _platform("client-7")
        _person(old, "u-5", _course(old, "course-12"))
        new = _platform("client-8")
    out = _move(app, old, new)
    assert out.exit_code == 0 and f"platform {old} is disabled" in out.output
    with app.app_context():
        assert db.session.get(Platform, old).disabled_at is not None
        assert db.session.get(Platform, new).disabled_at is None
    assert app.test_cli_runner().invoke(main, ["platform", "remove", str(old), "--yes"]).exit_code == 0   # no copies


def test_a_teacher_adding_an_assignment_during_the_move_is_not_lost(app):
    with app.app_context():
        old = _platform("client-7")
        _course(old, "course-12", assignment="Essay 1")
        new = _platform("client-8")
        twin = _course(new, "course-12")
        engine = db.engine
    started, done = threading.Event(), threading.Event()

    def teacher_adds_an_assignment():   # the copy is found empty, then the new essay is saved
        with engine.begin() as conn:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
            conn.execute(db.insert(Assignment).values(course_id=twin, title="Essay 2", resource_id="r-2"))
            started.set()
            time.sleep(0.6)
        done.set()

    writer = threading.Thread(target=teacher_adds_an_assignment)
    writer.start()
    assert started.wait(5)
    out = _move(app, old, new)
    writer.join(10)
    assert done.is_set()
    assert out.exit_code != 0 and "nothing moved" in out.output, out.output
    with app.app_context():
        assert db.session.scalar(db.select(Assignment.course_id).filter_by(title="Essay 2")) == twin
        assert db.session.get(Course, twin).platform_id == new
