"""The dashboard's list of failed gradebook updates: the same statements for 1 as for 10 (after an
LMS outage at a deadline every grade post can fail; each row once cost 3 queries), and picked in
SQL, so 100 newer failures of other kinds (trainings, scoring) never hide them. On SQLite and
PostgreSQL (Flask test client)."""
from __future__ import annotations

import re

from lti_app.extensions import db
from lti_app.models import Assignment, DeadLetter, Submission, User
from tests.coursework.big_class import add_students, statements_of
from tests.coursework.helpers import build_world


def _failed_updates(page: str) -> list[str]:
    table = page.split('<table id="dead-letters">', 1)[1].split("</table>", 1)[0] if "dead-letters" in page else ""
    return [re.sub(r"<[^>]+>", "", cell).strip()
            for cell in re.findall(r"<tr><td><time [^>]*>[^<]*</time></td><td>(.*?)</td>", table, re.S)]


def test_failed_gradebook_updates_cost_the_same_statements_for_1_or_10(locking_app):
    app = locking_app
    world = build_world(app)
    url = f"/dashboard/a/{world.assignment_a}"
    add_students(app, world, 3, start=0)
    few, page = statements_of(app, world, url)
    assert _failed_updates(page.get_data(as_text=True)) == [f"Big Student 0 (essay #{_essay_of(app, 'big-0')})"]
    add_students(app, world, 27, start=3)
    many, page = statements_of(app, world, url)
    assert len(many) == len(few), f"{len(few)} statements for 1 failed update, {len(many)} for 10"
    # Newest first, each naming the student and the essay.
    assert _failed_updates(page.get_data(as_text=True)) == [
        f"Big Student {n} (essay #{_essay_of(app, f'big-{n}')})" for n in range(27, -1, -3)]
    with app.app_context():   # graded anonymously: the essay's number only, in the same statements
        db.session.get(Assignment, world.assignment_a).anonymous_grading = True
        db.session.commit()
    hidden, page = statements_of(app, world, url)
    assert len(hidden) == len(few)
    assert _failed_updates(page.get_data(as_text=True))[0] == f"Essay #{_essay_of(app, 'big-27')}"


def test_newer_failures_of_other_kinds_do_not_hide_the_gradebook_ones(locking_app):
    app = locking_app
    world = build_world(app)
    add_students(app, world, 1, start=0)   # one failed gradebook update
    with app.app_context():
        for n in range(120):
            db.session.add(DeadLetter(message_id=f"train-{n}", queue="gradeloop.training", routing_key="training",
                                      payload={"event_id": f"t-{n}", "type": "training.due",
                                               "payload": {"assignment_id": world.assignment_a}},
                                      reason="out of memory", attempts=3, assignment_id=world.assignment_a))
        db.session.commit()
    _, page = statements_of(app, world, f"/dashboard/a/{world.assignment_a}")
    assert _failed_updates(page.get_data(as_text=True)) == [f"Big Student 0 (essay #{_essay_of(app, 'big-0')})"]


def _essay_of(app, sub: str) -> int:
    with app.app_context():
        return db.session.scalar(db.select(Submission.id).join(User, Submission.user_id == User.id)
                                 .where(User.sub == sub))
