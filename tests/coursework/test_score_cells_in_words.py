"""A score that is not a usable number (nan, which Python's csv module and numpy write in empty
cells, inf, 1e309, a 400-digit number) is told in the teacher's words, naming the row and what is
allowed, not marshmallow's "Special numeric values (nan or infinity) are not permitted." Likewise a
crafted form without a title or a feedback mode."""
from __future__ import annotations

import pytest

from lti_app.coursework.csv_io import CsvProblem, parse_import
from lti_app.coursework.schemas import AssignmentSchema, SettingsSchema
from lti_app.extensions import db
from lti_app.models import Assignment
from tests.coursework.helpers import build_world

ESSAY = "Phones help students learn in class because they can look things up quickly."


@pytest.mark.parametrize("cell", ["nan", "NaN", "inf", "-Infinity", "1e309", "9" * 400])
def test_a_score_cell_that_is_not_a_usable_number_is_told_in_words(app, cell):
    world = build_world(app)
    with app.app_context():
        assignment = db.session.get(Assignment, world.assignment_a)
        with pytest.raises(CsvProblem) as problem:
            parse_import(f"text,score\n{ESSAY},{cell}\n".encode(), assignment, max_chars=100_000)
    [line] = problem.value.lines
    assert line.startswith("Row 2 ") and line.endswith("score must be a number from 1 to 6"), line


def test_a_form_without_title_or_feedback_mode_is_told_in_words():
    problems = AssignmentSchema().validate({"score_min": "1", "score_max": "6"})
    assert problems["title"] == ["Give the assignment a title (at most 200 characters)."]
    problems = SettingsSchema().validate({"feedback_mode": "sometimes"})
    assert problems["feedback_mode"] == ["Choose how automatic feedback works: Off, Review or Auto-release."]
