"""An LMS that registers Gradeloop again (a new client id, the same issuer): the registration page
names the older registration that holds its courses, and `gradeloop platform move-courses` moves
them, so launches through the new registration find them instead of empty courses."""
from __future__ import annotations

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
        assert db.session.get(Course, empty_twin) is None and db.session.get(User, twin_teacher) is None
        assert {u.sub: u.id for u in db.session.scalars(db.select(User).filter_by(platform_id=new))} == {
            "u-5": student, "u-1": teacher}
        roles = {(r.course_id, r.user_id) for r in db.session.scalars(db.select(CourseRole))}
        assert roles == {(kept, student), (kept, teacher), (elsewhere, teacher)}
        assert db.session.scalar(db.select(Submission.user_id)) == student
    assert "moved 0 course(s) and 0 person(s)" in _move(app, old, new).output   # nothing left to move
    assert app.test_cli_runner().invoke(main, ["platform", "remove", str(old), "--yes"]).exit_code == 0


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
