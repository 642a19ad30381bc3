"""The review queue shows names, scores and the start of the proposed feedback, never an essay: it
once read every queued essay's whole text (and every earlier version's) to find the names, 52 MB
for 500 long essays. On SQLite and PostgreSQL (Flask test client)."""
from __future__ import annotations

import re

from tests.coursework.big_class import add_students, statements_of
from tests.coursework.helpers import build_world


def test_the_review_queue_reads_no_essay_text(locking_app):
    app = locking_app
    world = build_world(app)
    add_students(app, world, 9, start=0)
    statements, page = statements_of(app, world, f"/review/a/{world.assignment_a}")
    assert not [s for s in statements if "submissions.text" in s]
    assert not [s for s in statements if re.search(r"grades\.essay_text(?! IS NOT NULL)", s)]
    rows = re.findall(r'<tr data-proposal="\d+" role="row">.*?</tr>', page.get_data(as_text=True), re.S)
    assert sorted(re.search(r'class="stack-head">([^<]*)<', row).group(1) for row in rows) == \
        sorted(f"Big Student {n}" for n in (2, 5, 8))
