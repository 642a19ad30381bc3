"""`gradeloop course delete|purge --forget`: after a course's data, the course itself goes (title,
LMS id, its people's course roles, its resource links), so that nothing of a course outlives a
retention policy; the LMS's next launch of it makes a new, empty course. A session still open in
the forgotten course is refused, also once SQLite gives its id to another course, and a course
opened while its data was being deleted is kept."""
from lti_app import course_admin
from lti_app.course_admin import course_group
from lti_app.extensions import db
from lti_app.models import Assignment, Course, CourseRole, ResourceLink, Role, Submission, User
from tests.coursework.flows import COURSE, graded_two_essays, open_assignment
from tests.coursework.helpers import build_world, count
from tests.coursework.test_course_admin_cli import _cli, _graded


def _course_rows(app, course_id: int) -> list[int]:
    """[course, course roles, resource links] rows of the course."""
    with app.app_context():
        return [count(Course, id=course_id), count(CourseRole, course_id=course_id),
                count(ResourceLink, course_id=course_id)]


def test_a_forgotten_course_is_gone_its_sessions_are_refused_and_its_next_launch_makes_it_anew(
        peer, tool_server, monkeypatch):
    from lti_app import auth

    monkeypatch.setattr(auth, "CLOCK_SLACK_S", 0)   # the other course arrives within a second here
    app = tool_server.app
    graded_two_essays(peer, tool_server)
    teacher, _ = open_assignment(peer, tool_server, role="Instructor", user_id="teacher-1")
    assert teacher.get(tool_server.url + "/coursework/", timeout=30).status_code == 200
    with app.app_context():
        course_id = db.session.scalar(db.select(Course.id))

    out = app.test_cli_runner().invoke(cli=course_group, args=["delete", "--course", str(course_id), "--forget"],
                                       input="y\n")
    assert out.exit_code == 0, out.output
    assert "then the course itself: its title and LMS id, 3 course roles and 2 resource links" in out.output
    assert f"course {course_id}: forgotten" in out.output
    assert _course_rows(app, course_id) == [0, 0, 0]
    with app.app_context():
        assert count(Assignment) == 0 and count(Submission) == 0
        assert count(User) == 3   # the people stay: `gradeloop privacy erase-people --without-data`
    assert teacher.get(tool_server.url + "/coursework/", timeout=30).status_code == 401

    # Another course of the LMS, launched now, gets the forgotten course's id on SQLite: the
    # teacher's old session must not open it.
    stranger = peer.launch(role="Learner", user_id="student-9", course_id="course-elsewhere")
    assert stranger.response.status_code == 200
    with app.app_context():
        assert db.session.scalar(db.select(Course.id).filter_by(context_id="course-elsewhere")) == course_id
    assert teacher.get(tool_server.url + "/coursework/", timeout=30).status_code == 401

    again, _ = open_assignment(peer, tool_server, role="Instructor", user_id="teacher-1")
    with app.app_context():
        fresh = db.session.scalar(db.select(Course).filter_by(context_id=COURSE))
        assert fresh is not None and fresh.id != course_id
        assert count(Assignment, course_id=fresh.id) == 0
    assert again.get(tool_server.url + "/coursework/", timeout=30).status_code == 200


def test_purge_forget_takes_inactive_courses_even_when_already_empty(locking_app):
    app, world = locking_app, build_world(locking_app)
    _graded(app, world)
    dry = _cli(app, "purge", "--inactive-days", "365", "--forget", "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert f"would delete course {world.course_a} " in dry.output and "then the course itself" in dry.output
    assert "course-b" not in dry.output and "nothing deleted" in dry.output
    assert _course_rows(app, world.course_a) == [1, 4, 1]

    # The data deleted first as before (the course stays), then the empty course forgotten.
    assert _cli(app, "delete", "--course", str(world.course_a), "--yes").exit_code == 0
    assert _course_rows(app, world.course_a) == [1, 4, 1]
    assert "no course with data" in _cli(app, "purge", "--inactive-days", "365", "--yes").output
    emptied = _cli(app, "delete", "--course", str(world.course_a), "--yes")
    assert "nothing to delete (--forget deletes the course itself)" in emptied.output

    refused = _cli(app, "purge", "--inactive-days", "365", "--forget", input="n\n")
    assert refused.exit_code != 0 and _course_rows(app, world.course_a) == [1, 4, 1]
    purged = _cli(app, "purge", "--inactive-days", "365", "--forget", "--yes")
    assert purged.exit_code == 0, purged.output
    assert f"course {world.course_a}: forgotten" in purged.output and "LMS gradebook" in purged.output
    assert _course_rows(app, world.course_a) == [0, 0, 0]
    assert _course_rows(app, world.course_b) == [1, 4, 1]
    with app.app_context():
        assert count(Submission) == 1 and count(User) == 8   # course B's essay; everyone's user row


def test_a_course_someone_opens_while_its_data_is_deleted_is_kept(locking_app, monkeypatch):
    """The course's data goes in one transaction and the course in the next: a person who
    launched in between is a member of a course the admin never agreed to forget."""
    app, world = locking_app, build_world(locking_app)
    real = course_admin.delete_course_data

    def a_new_student_launches_meanwhile(course_id):
        deleted = real(course_id)
        with app.app_context():
            user = User(platform_id=world.platform, sub="student-new", name="New Student")
            db.session.add(user)
            db.session.flush()
            db.session.add(CourseRole(course_id=course_id, user_id=user.id, role=Role.LEARNER))
            db.session.commit()
        return deleted

    monkeypatch.setattr(course_admin, "delete_course_data", a_new_student_launches_meanwhile)
    out = _cli(app, "delete", "--course", str(world.course_a), "--forget", "--yes")
    assert out.exit_code == 0, out.output
    assert f"course {world.course_a}: deleted 1 assignment" in out.output
    assert f"course {world.course_a}: the course itself was kept, someone opened it" in out.output
    assert _course_rows(app, world.course_a) == [1, 5, 1]
    with app.app_context():
        assert count(Assignment, course_id=world.course_a) == 0

    monkeypatch.undo()
    again = _cli(app, "delete", "--course", str(world.course_a), "--forget", "--yes")
    assert f"course {world.course_a}: forgotten" in again.output, again.output
    assert _course_rows(app, world.course_a) == [0, 0, 0]
