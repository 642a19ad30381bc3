"""`gradeloop course`: a school's retention policy from a shell. `list` shows each course's counts and
last activity (oldest first) and filters by inactivity; `delete` and `purge` delete a course's data
with the function the teacher's "Delete course data" button calls, asking first unless --yes, and
leave every other course alone; `purge --dry-run` only lists."""
from datetime import datetime, timedelta, timezone
from pathlib import Path

from lti_app.course_admin import course_group
from lti_app.extensions import db
from lti_app.models import (Assignment, Course, CourseRole, Grade, GradeSource, ModelVersion, Submission,
                            TrainingRun)
from tests.coursework.helpers import count

LONG_AGO = datetime.now(timezone.utc) - timedelta(days=400)


def _cli(app, *args, input=None):
    return app.test_cli_runner().invoke(cli=course_group, args=list(args), input=input)


def _graded(app, world):
    """Both courses' essays graded; course A's whole history moved 400 days back (its year is over)."""
    with app.app_context():
        for key in ("a", "b"):
            db.session.add(Grade(submission_id=getattr(world, f"essay_{key}"), score=4, source=GradeSource.TEACHER,
                                 score_min=1, score_max=6, grader_id=getattr(world, f"teacher_{key}")))
        db.session.flush()
        course_a, assignment_a = world.course_a, world.assignment_a
        for model, column, where in (
                (Course, "created_at", Course.id == course_a),
                (CourseRole, "updated_at", CourseRole.course_id == course_a),
                (Assignment, "created_at", Assignment.id == assignment_a),
                (Submission, "submitted_at", Submission.assignment_id == assignment_a),
                (Grade, "created_at", Grade.submission_id == world.essay_a)):
            db.session.execute(db.update(model).where(where).values({column: LONG_AGO}))
        db.session.commit()


def _with_model(app, assignment_id: int) -> Path:
    """A promoted model version of the assignment with its files, and a finished training run."""
    with app.app_context():
        folder = Path(app.config["GRADELOOP_DATA_DIR"]) / "models" / f"assignment-{assignment_id}" / "v1"
        folder.mkdir(parents=True)
        (folder / "model.int8.onnx").write_bytes(b"trained on the course's essays")
        version = ModelVersion(assignment_id=assignment_id, version=1, status="promoted", approach="frozen-ridge",
                               path=str(folder), onnx_path=str(folder / "model.int8.onnx"), n_train=1)
        db.session.add(version)
        db.session.flush()
        db.session.add(TrainingRun(assignment_id=assignment_id, status="done", model_version_id=version.id))
        db.session.get(Assignment, assignment_id).current_model_id = version.id
        db.session.commit()
    return folder


def _held(app, model, course_id: int) -> int:
    """Rows of `model` (Assignment, Submission or Grade) that belong to the course."""
    with app.app_context():
        query = db.select(db.func.count()).select_from(model)
        if model in (Submission, Grade):
            if model is Grade:
                query = query.join(Submission, Submission.id == Grade.submission_id)
            query = query.join(Assignment, Assignment.id == Submission.assignment_id)
        return db.session.scalar(query.where(Assignment.course_id == course_id))


def test_list_shows_counts_and_last_activity_oldest_first_and_filters(app, world):
    _graded(app, world)
    listed = _cli(app, "list")
    assert listed.exit_code == 0, listed.output
    ids = (f"{world.course_a}\t", f"{world.course_b}\t")
    lines = [line for line in listed.output.splitlines() if line.startswith(ids)]
    assert [line.split("\t")[0] for line in lines] == [str(world.course_a), str(world.course_b)]
    first = lines[0].split("\t")
    assert first[1:4] == ["https://lms.example", "course-a", "Course A"]
    assert "1 assignment, 1 essay, 1 grade" in lines[0]
    assert LONG_AGO.strftime("%Y-%m-%d") in lines[0]
    assert datetime.now(timezone.utc).strftime("%Y-%m-%d") in lines[1]

    old = _cli(app, "list", "--inactive-days", "365")
    assert old.exit_code == 0, old.output
    assert "course-a" in old.output and "course-b" not in old.output
    assert "course-a" not in _cli(app, "list", "--platform", str(world.platform + 1)).output


def test_delete_removes_that_course_only_after_confirmation(app, world):
    _graded(app, world)
    folder = _with_model(app, world.assignment_a)
    other = _with_model(app, world.assignment_b)

    refused = _cli(app, "delete", "--course", str(world.course_a), input="n\n")
    assert refused.exit_code != 0 and "Aborted" in refused.output
    assert "1 assignment, 1 essay, 1 grade, 1 model version" in refused.output
    assert _held(app, Submission, world.course_a) == 1 and folder.exists()

    deleted = _cli(app, "delete", "--course", str(world.course_a), "--yes")
    assert deleted.exit_code == 0, deleted.output
    assert "LMS gradebook" in deleted.output
    assert [_held(app, m, world.course_a) for m in (Assignment, Submission, Grade)] == [0, 0, 0]
    assert not folder.exists() and not folder.parent.exists()
    with app.app_context():
        assert count(ModelVersion) == 1 and count(TrainingRun) == 1   # course B's
    assert [_held(app, m, world.course_b) for m in (Assignment, Submission, Grade)] == [1, 1, 1]
    assert other.exists()

    missing = _cli(app, "delete", "--course", "999", "--yes")
    assert missing.exit_code != 0 and "no course 999" in missing.output


def test_a_running_training_keeps_its_folder_as_in_the_teachers_page(app, world):
    """As the button does: the data goes at once; the folder the running training writes into is
    left to it (it stops on the missing assignment; the scheduler removes what it leaves)."""
    from worker.handlers.training import lease_key
    from worker.leases import acquire

    folder = _with_model(app, world.assignment_a)
    with app.app_context():
        assert acquire(lease_key(world.assignment_a), "worker-1/msg-1", 600)
    deleted = _cli(app, "delete", "--course", str(world.course_a), "--yes")
    assert deleted.exit_code == 0, deleted.output
    assert "training is running" in deleted.output
    assert _held(app, Assignment, world.course_a) == 0
    assert not folder.exists() and folder.parent.exists()   # the version's files go, its folder stays


def test_purge_dry_run_deletes_nothing_and_purge_only_the_inactive_course(app, world):
    _graded(app, world)
    dry = _cli(app, "purge", "--inactive-days", "365", "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "course-a" in dry.output and "course-b" not in dry.output and "nothing deleted" in dry.output
    assert _held(app, Submission, world.course_a) == 1

    refused = _cli(app, "purge", "--inactive-days", "365", input="n\n")
    assert refused.exit_code != 0 and _held(app, Submission, world.course_a) == 1

    purged = _cli(app, "purge", "--inactive-days", "365", "--yes")
    assert purged.exit_code == 0, purged.output
    assert "LMS gradebook" in purged.output
    assert [_held(app, m, world.course_a) for m in (Assignment, Submission, Grade)] == [0, 0, 0]
    assert [_held(app, m, world.course_b) for m in (Assignment, Submission, Grade)] == [1, 1, 1]
    # An emptied course has nothing left to purge.
    again = _cli(app, "purge", "--inactive-days", "365", "--yes")
    assert again.exit_code == 0 and "no course" in again.output


def test_a_course_with_activity_while_the_prompt_waited_is_skipped(app, world, monkeypatch):
    """The prompt may wait for minutes; an essay graded meanwhile was never in what the admin agreed
    to delete, so that course is left for the next run."""
    import click

    _graded(app, world)

    def teacher_grades_while_asked(*args, **kwargs):
        with app.app_context():
            db.session.add(Grade(submission_id=world.essay_a, score=5, source=GradeSource.TEACHER,
                                 score_min=1, score_max=6, grader_id=world.teacher_a))
            db.session.commit()
        return True

    monkeypatch.setattr(click, "confirm", teacher_grades_while_asked)
    purged = _cli(app, "purge", "--inactive-days", "365")
    assert purged.exit_code == 0, purged.output
    assert f"course {world.course_a}: skipped" in purged.output
    assert _held(app, Submission, world.course_a) == 1


def test_a_platform_id_that_does_not_exist_is_said_not_taken_for_nothing_to_do(app, world):
    """The last steps of removing an LMS: a mistyped --platform must not read as "nothing left"."""
    from lti_app.cli import main

    for args in (["course", "list", "--platform", "999"],
                 ["course", "purge", "--inactive-days", "1", "--platform", "999", "--dry-run"],
                 ["privacy", "erase-people", "--without-data", "--platform", "999", "--dry-run"]):
        answer = app.test_cli_runner().invoke(cli=main, args=args)
        assert answer.exit_code == 1 and "there is no platform 999" in answer.output, (args, answer.output)
    answer = _cli(app, "purge", "--inactive-days", "1", "--dry-run")   # the world's courses are active
    assert answer.output == "no course with data has been inactive for 1 day\n", answer.output
