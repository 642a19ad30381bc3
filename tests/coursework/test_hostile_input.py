"""Input shaped to make the web app's text handling slow, at each form's size limit: an essay
handed in (100,000 characters) and the grading page that shows it, a grade comment (20,000), a
CSV import (the 2 MB upload limit) and the comparison of two versions. While a Python loop or
regular expression runs it holds the GIL, so every thread of that web process waits. Each case
must stay linear: the bounds only tell seconds from the minutes a quadratic step took."""
from __future__ import annotations

import csv
import html
import io
import re
import time

import pytest

from lti_app.coursework import version_diff
from lti_app.extensions import db
from lti_app.models import Grade, Role, Submission
from tests.coursework.helpers import login
from tests.hostile_texts import HOSTILE, HOSTILE_COMMENTS

UPLOAD_LIMIT = 2_000_000   # GRADELOOP_MAX_UPLOAD_BYTES by default
BOUND = 30                 # seconds; linear is well under one


def _teacher(client, app, world):
    return login(client, app, course_id=world.course_a, user_id=world.teacher_a, role=Role.INSTRUCTOR)


def _import(client, world, token, data: bytes):
    assert len(data) <= UPLOAD_LIMIT
    return client.post(f"/coursework/a/{world.assignment_a}/import", content_type="multipart/form-data",
                       data={"csrf_token": token, "file": (io.BytesIO(data), "grades.csv")})


@pytest.mark.parametrize("essay", HOSTILE.values(), ids=HOSTILE.keys())
def test_a_hostile_essay_is_handed_in_and_shown_to_the_teacher_in_seconds(client, app, world, essay):
    started = time.monotonic()
    token = login(client, app, course_id=world.course_a, user_id=world.student2_a, role=Role.LEARNER,
                  resource_link_id=world.link_a)
    handed_in = client.post(f"/coursework/a/{world.assignment_a}/essay", data={"csrf_token": token, "text": essay},
                            content_type="multipart/form-data")
    assert handed_in.status_code == 303
    with app.app_context():
        essay_id = db.session.scalar(db.select(Submission.id).filter_by(user_id=world.student2_a))
    _teacher(client, app, world)
    assert client.get(f"/coursework/a/{world.assignment_a}/essays/{essay_id}").status_code == 200
    assert time.monotonic() - started < BOUND


@pytest.mark.parametrize("comment", HOSTILE_COMMENTS.values(), ids=HOSTILE_COMMENTS.keys())
def test_a_hostile_grade_comment_is_saved_in_seconds(client, app, world, comment):
    token = _teacher(client, app, world)
    page = client.get(f"/coursework/a/{world.assignment_a}/essays/{world.essay_a}").get_data(as_text=True)
    seen = html.unescape(re.search(r'name="seen" value="([^"]*)"', page).group(1))
    started = time.monotonic()
    saved = client.post(f"/coursework/a/{world.assignment_a}/essays/{world.essay_a}", data={
        "csrf_token": token, "seen": seen, "score": "4", "comment": comment})
    assert saved.status_code == 303
    assert time.monotonic() - started < BOUND
    with app.app_context():
        assert db.session.scalar(db.select(Grade.comment)) == comment.strip()


@pytest.mark.parametrize("essay,comment", list(zip(HOSTILE.values(), HOSTILE_COMMENTS.values())),
                         ids=list(HOSTILE))
def test_a_csv_of_a_hostile_essay_and_comment_is_imported_in_seconds(client, app, world, essay, comment):
    token = _teacher(client, app, world)
    out = io.StringIO()
    csv.writer(out).writerows([["text", "score", "comment"], [essay, "4", comment]])
    started = time.monotonic()
    response = _import(client, world, token, out.getvalue().encode())
    assert response.status_code == 303
    assert time.monotonic() - started < BOUND


def test_a_csv_header_of_a_million_unnamed_columns_over_many_rows_is_refused_in_seconds(client, app, world):
    """Each row looked its assignment columns up in the whole header: minutes for this file."""
    token = _teacher(client, app, world)
    data = ("text,score" + "," * 1_000_000 + "\n" + "An essay.\n" * 19_000).encode()
    started = time.monotonic()
    response = _import(client, world, token, data)
    assert response.status_code == 400 and "fields, but the header has 1000002" in html.unescape(
        response.get_data(as_text=True))
    assert time.monotonic() - started < BOUND


def test_a_csv_header_of_140000_other_traits_is_read_in_seconds(client, app, world):
    """Columns of traits this assignment lacks, empty in every row (another assignment's in a
    course export), are ignored; counting each name in the whole header took minutes."""
    token = _teacher(client, app, world)
    header = ",".join(["text", "score", *(f"trait:t{n}" for n in range(140_000))])
    data = (header + "\nAn essay.,4" + "," * 140_000 + "\n").encode()
    started = time.monotonic()
    response = _import(client, world, token, data)
    assert response.status_code == 303
    assert time.monotonic() - started < BOUND


@pytest.mark.parametrize("essay", HOSTILE.values(), ids=HOSTILE.keys())
def test_two_hostile_versions_are_compared_in_seconds(essay):
    started = time.monotonic()
    version_diff.compare(essay, "A new start. " + essay)
    version_diff.compare("Cars are loud. A graded essay.", essay)
    assert time.monotonic() - started < BOUND
