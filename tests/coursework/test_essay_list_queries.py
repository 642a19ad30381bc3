"""The teacher's essay list costs the same statements for 3 essays as for 30, and reads no essay
text: it once read every essay (100 kB each allowed) to show 25 rows, and asked for the role of
each writer not on the LMS roster, one query per essay (every essay when the LMS shares no roster).
On SQLite and PostgreSQL (Flask test client)."""
from __future__ import annotations

import re

from lti_app.extensions import db
from lti_app.models import Grade, GradeSource, Submission, SubmissionStatus
from tests.coursework.big_class import add_students, statements_of
from tests.coursework.helpers import build_world


def _rows(page: str) -> dict[str, str]:
    return {re.sub(r"<[^>]+>", "", m.group(2)).strip(): m.group(0)
            for m in re.finditer(r'<tr data-status="([^"]+)" role="row">\s*<td[^>]*>(.*?)</td>.*?</tr>', page, re.S)}


def _teacher_test_essay(app, world) -> None:
    """The teacher tried the assignment and graded it: not on the roster, and no grade for the LMS."""
    with app.app_context():
        essay = Submission(assignment_id=world.assignment_a, user_id=world.teacher_a, text="Trying it out.",
                           word_count=3, status=SubmissionStatus.GRADED)
        db.session.add(essay)
        db.session.flush()
        db.session.add(Grade(submission_id=essay.id, score=2, source=GradeSource.TEACHER, score_min=1, score_max=6))
        db.session.commit()


def test_the_essay_list_costs_the_same_statements_for_3_or_30_essays(locking_app):
    app = locking_app
    world = build_world(app)
    url = f"/coursework/a/{world.assignment_a}?per_page=200"
    _teacher_test_essay(app, world)
    add_students(app, world, 3, start=0)
    few, _ = statements_of(app, world, url)
    add_students(app, world, 27, start=3)
    many, page = statements_of(app, world, url)
    assert len(many) == len(few), f"{len(few)} statements for 3 essays, {len(many)} for 30"
    # No essay text is read: neither the essays' nor the earlier versions' a grade was given on.
    assert not [s for s in many if "submissions.text" in s]
    assert not [s for s in many if re.search(r"grades\.essay_text(?! IS NOT NULL)", s)]

    rows = _rows(page.get_data(as_text=True))
    assert len(rows) == 32   # no roster shared: those who handed in (30, Student1 A) and the teacher
    for n in range(30):
        row = rows[f"Big Student {n}"]
        status = ("Graded", "Revised", "Submitted")[n % 3]
        assert f'data-status="{status}"' in row, row
        assert ("(earlier version)" in row) == (n % 3 == 1), row
    assert "Teacher (not sent)" in rows["Teacher A"], "the teacher's own essay takes no LMS grade"
    assert "Teacher (not sent)" not in rows["Big Student 0"]
