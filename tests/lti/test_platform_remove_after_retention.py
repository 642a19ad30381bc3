"""A school that stops using Gradeloop with one of its LMSs: `gradeloop platform remove` refuses while
the LMS's courses or people are held and names the commands that delete them; after `gradeloop
course delete --forget` for each course and `gradeloop privacy erase-people --without-data`,
nothing of the LMS is left and the platform is removed."""
from __future__ import annotations

from lti_app.cli import main
from lti_app.extensions import db
from lti_app.models import Course, CourseRole, Platform, ResourceLink, User
from tests.coursework.flows import graded_two_essays


def _gradeloop(app, *args, input=None):
    return app.test_cli_runner().invoke(main, list(args), input=input)


def test_an_lms_is_removed_once_its_courses_are_forgotten_and_its_people_erased(peer, tool_server):
    app = tool_server.app
    graded_two_essays(peer, tool_server)
    assert peer.launch(role="Instructor", user_id="teacher-2", course_id="course-2").response.status_code == 200
    with app.app_context():
        platform_id = db.session.scalar(db.select(Platform.id))

    refused = _gradeloop(app, "platform", "remove", str(platform_id), "--yes")
    assert refused.exit_code == 1
    assert "holds 2 course(s) and 4 person(s)" in refused.output
    for step in (f"gradeloop course list --platform {platform_id}", "gradeloop course delete --course ID --forget",
                 f"gradeloop privacy erase-people --without-data --platform {platform_id}"):
        assert step in refused.output, refused.output

    listed = _gradeloop(app, "course", "list", "--platform", str(platform_id))
    course_ids = [line.split("\t")[0] for line in listed.output.splitlines()]
    assert len(course_ids) == 2, listed.output
    for course_id in course_ids:
        out = _gradeloop(app, "course", "delete", "--course", course_id, "--forget", "--yes")
        assert out.exit_code == 0 and f"course {course_id}: forgotten" in out.output, out.output
    still = _gradeloop(app, "platform", "remove", str(platform_id), "--yes")
    assert still.exit_code == 1 and "0 course(s) and 4 person(s)" in still.output

    erased = _gradeloop(app, "privacy", "erase-people", "--without-data", "--platform", str(platform_id), "--yes")
    assert erased.exit_code == 0 and "erased 4 people" in erased.output, erased.output

    removed = _gradeloop(app, "platform", "remove", str(platform_id), "--yes")
    assert removed.exit_code == 0, removed.output
    with app.app_context():
        assert [db.session.scalar(db.select(db.func.count()).select_from(model))
                for model in (Platform, Course, CourseRole, ResourceLink, User)] == [0, 0, 0, 0, 0]


def test_a_registration_left_with_move_courses_copies_only_says_to_keep_it_disabled(app):
    from lti_app.reregistration import RETIRED
    from tests.lti.test_reregistration import _platform

    with app.app_context():
        old = _platform("client-7")
        db.session.add(User(platform_id=old, sub=f"{RETIRED}5", name=""))
        db.session.commit()
    refused = _gradeloop(app, "platform", "remove", str(old), "--yes")
    assert refused.exit_code == 1 and "0 course(s) and 1 person(s)" in refused.output
    assert "copies that `gradeloop platform move-courses` retired" in refused.output
    assert "erase-people" not in refused.output
