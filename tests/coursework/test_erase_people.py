"""`gradeloop privacy erase-people --without-data`: the people a retention policy left in no course
and with no essay are listed, then erased as `erase-user` erases one person (after a question,
unless --yes; --dry-run only lists). Whoever is still in a course or still has an essay is left
alone, and so is someone who opened Gradeloop after the list was printed."""
from lti_app.cli import main
from lti_app.extensions import db
from lti_app.models import CourseRole, Grade, GradeSource, Platform, Role, Submission, User
from lti_app.reregistration import RETIRED
from tests.coursework.helpers import build_world, count
from tests.coursework.test_course_admin_cli import _cli as course_cli


def _erase(app, *args, input=None):
    return app.test_cli_runner().invoke(main, ["privacy", "erase-people", *args], input=input)


def _forget_course_a(app, world) -> None:
    """Course A deleted with the course itself; teacher A also teaches course B; student 2 A has
    an essay left in course B without being a member (a role the LMS took back); writer X is in
    no course, but course B holds a copy of their essay as training data."""
    with app.app_context():
        db.session.add(CourseRole(course_id=world.course_b, user_id=world.teacher_a, role=Role.INSTRUCTOR))
        db.session.add(Submission(assignment_id=world.assignment_b, user_id=world.student2_a, text="Old essay.",
                                  word_count=2))
        db.session.add(Grade(submission_id=world.essay_b, score=4, source=GradeSource.TEACHER, score_min=1,
                             score_max=6, grader_id=world.ta_a))   # a grade student 1 B keeps
        db.session.add(User(platform_id=world.platform, sub=f"{RETIRED}99", name=""))   # move-courses' copy
        writer = User(platform_id=world.platform, sub="writer-x", name="Writer X")   # of a course copy's essay
        db.session.add(writer)
        db.session.flush()
        db.session.add(Submission(assignment_id=world.assignment_b, user_id=None, source_user_id=writer.id,
                                  text="Last year's essay.", word_count=3))
        db.session.commit()
    assert course_cli(app, "delete", "--course", str(world.course_a), "--forget", "--yes").exit_code == 0


def _people(app) -> set[str]:
    with app.app_context():
        return set(db.session.scalars(db.select(User.sub)))


def test_only_the_people_with_nothing_left_are_listed_then_erased(locking_app):
    app, world = locking_app, build_world(locking_app)
    _forget_course_a(app, world)
    before = _people(app)

    refused = _erase(app, "--platform", str(world.platform))
    assert refused.exit_code != 0 and "--without-data" in refused.output

    dry = _erase(app, "--without-data", "--dry-run")
    assert dry.exit_code == 0, dry.output
    listed = [line for line in dry.output.splitlines() if line.startswith("would erase")]
    assert [line.split("\t")[2] for line in listed] == ["ta-a", "student1-a"]
    assert "Ta A" in dry.output and "dry run: no one erased" in dry.output
    assert _people(app) == before

    with app.app_context():   # another LMS, with nobody of its own
        other = Platform(issuer="https://other-lms.example", client_id="c2", auth_login_url="https://other-lms.example/a",
                         auth_token_url="https://other-lms.example/t", key_set_url="https://other-lms.example/k")
        db.session.add(other)
        db.session.commit()
        other_id = other.id
    other_lms = _erase(app, "--without-data", "--platform", str(other_id), "--yes")
    assert other_lms.exit_code == 0 and "no one is held" in other_lms.output

    asked = _erase(app, "--without-data", input="n\n")
    assert asked.exit_code != 0 and _people(app) == before

    erased = _erase(app, "--without-data", "--platform", str(world.platform), "--yes")
    assert erased.exit_code == 0, erased.output
    assert "erased 2 people" in erased.output
    assert _people(app) == before - {"ta-a", "student1-a"}
    assert {"teacher-a", "student2-a", "writer-x", f"{RETIRED}99"} <= _people(app)
    with app.app_context():   # the grade the TA gave stays, without their name
        assert db.session.scalar(db.select(Grade.grader_id).filter_by(submission_id=world.essay_b)) is None
        assert count(Submission, id=world.essay_b) == 1

    again = _erase(app, "--without-data", "--yes")
    assert again.exit_code == 0 and "no one is held" in again.output


def test_someone_who_opens_gradeloop_while_the_prompt_waits_is_skipped(locking_app, monkeypatch):
    app, world = locking_app, build_world(locking_app)
    import click

    _forget_course_a(app, world)

    def the_ta_launches_in_course_b(*args, **kwargs):
        with app.app_context():
            db.session.add(CourseRole(course_id=world.course_b, user_id=world.ta_a, role=Role.TA))
            db.session.commit()
        return True

    monkeypatch.setattr(click, "confirm", the_ta_launches_in_course_b)
    out = _erase(app, "--without-data")
    assert out.exit_code == 0, out.output
    assert f"person {world.ta_a}: skipped, they opened Gradeloop after they were listed" in out.output
    assert "erased 1 person" in out.output
    assert "ta-a" in _people(app) and "student1-a" not in _people(app)
