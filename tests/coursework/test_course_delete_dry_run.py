"""`gradeloop course delete --dry-run` shows what the command would delete and deletes nothing, as
`purge --dry-run` does: an administrator checks the plan of one course, even with --yes or --forget,
without a prompt to answer "n" to."""
from __future__ import annotations

import pytest

from lti_app.extensions import db
from lti_app.models import Assignment, Course, CourseRole, Grade, ModelVersion, ResourceLink, Submission
from tests.coursework.helpers import count
from tests.coursework.test_course_admin_cli import _cli, _graded, _held, _with_model


@pytest.mark.parametrize("extra", [[], ["--forget"], ["--yes"], ["--forget", "--yes"]])
def test_a_dry_run_shows_the_plan_and_changes_nothing(app, world, extra):
    _graded(app, world)
    folder = _with_model(app, world.assignment_a)
    with app.app_context():
        before = [count(model) for model in (Course, CourseRole, ResourceLink, ModelVersion)]

    dry = _cli(app, "delete", "--course", str(world.course_a), "--dry-run", *extra)
    assert dry.exit_code == 0, dry.output
    assert f"would delete course {world.course_a} " in dry.output
    assert "1 assignment, 1 essay, 1 grade, 1 model version" in dry.output
    assert ("then the course itself" in dry.output) == ("--forget" in extra)
    assert "dry run: nothing deleted" in dry.output and "will delete" not in dry.output
    assert "?" not in dry.output, "nothing to confirm"

    assert [_held(app, m, world.course_a) for m in (Assignment, Submission, Grade)] == [1, 1, 1]
    assert folder.exists()
    with app.app_context():
        assert [count(model) for model in (Course, CourseRole, ResourceLink, ModelVersion)] == before
        assert db.session.get(Course, world.course_a) is not None
