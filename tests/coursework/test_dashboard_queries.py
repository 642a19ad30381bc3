"""The dashboard's list of failed gradebook updates: the same statements for 1 as for 10 (after an
LMS outage at a deadline every grade post can fail; each row once cost 3 queries), and picked in
SQL, so 100 newer failures of other kinds (trainings, scoring) never hide them; while no worker
runs, the grades nothing sends, counted in SQL as the essay list decides them. On SQLite and
PostgreSQL (Flask test client)."""
from __future__ import annotations

import html
import re
from datetime import timedelta

from lti_app.coursework import grade_in_lms
from lti_app.extensions import db
from lti_app.models import Assignment, DeadLetter, Grade, GradeSource, Role, Submission, User
from lti_app.models.base import utcnow
from tests.coursework.big_class import add_students, statements_of
from tests.coursework.helpers import build_world, login
from tests.heartbeats import beat


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


def _held_words(page: str) -> str:
    found = re.search(r'id="held-grades">(.*?)</p>', page, re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", found.group(1))).split()) if found else ""


def test_without_a_worker_the_dashboard_counts_the_grades_the_essay_list_holds(locking_app):
    """The box said every update "went through or is still being retried" while the essay list
    showed grades "Held in Gradeloop", which nothing retries without a worker (walk3 #1)."""
    app = locking_app
    world = build_world(app)
    add_students(app, world, 9, start=0)
    with app.app_context():
        grades = db.session.scalars(db.select(Grade).join(Submission).where(
            Submission.assignment_id == world.assignment_a).order_by(Grade.id)).all()
        for grade in grades:
            grade.created_at -= timedelta(minutes=5)   # past "Sending"
        grades[0].post_error = "The LMS refused the score (400)."            # Not sent: for the teacher
        grades[1].post_error = f"The LMS did not answer. Gradeloop {grade_in_lms.RETRY_MARK}"   # held
        grades[2].posted_at = utcnow()                                       # In LMS
        own = Submission(assignment_id=world.assignment_a, user_id=world.teacher_a, text="A test essay.",
                         word_count=3)   # the teacher's own test essay: the LMS takes no grade
        imported = Submission(assignment_id=world.assignment_a, user_id=None, text="An imported essay.",
                              word_count=3)
        db.session.add_all([own, imported])
        db.session.flush()
        for essay in (own, imported):
            db.session.add(Grade(submission_id=essay.id, score=3, source=GradeSource.TEACHER, score_min=1,
                                 score_max=6, grader_id=world.teacher_a, created_at=utcnow() - timedelta(minutes=5)))
        db.session.commit()
    client = app.test_client()
    login(client, app, course_id=world.course_a, user_id=world.teacher_a, role=Role.INSTRUCTOR,
          platform_id=world.platform)
    listing = client.get(f"/coursework/a/{world.assignment_a}?per_page=200").get_data(as_text=True)
    held = listing.count("<summary>Held in Gradeloop</summary>")
    assert held >= 4, listing
    dashboard = f"/dashboard/a/{world.assignment_a}"
    statements, page = statements_of(app, world, dashboard)
    words = _held_words(page.get_data(as_text=True))
    assert words == (f"{held} grades of this assignment are held in Gradeloop and not being sent to the LMS "
                     f"gradebook: {grade_in_lms.NO_WORKER}. Ask your Gradeloop administrator to start the worker; "
                     "the essay list shows which grades, and its \u201cSend to the LMS again\u201d sends them once "
                     "the LMS answers. Open the essay list."), words
    assert "still being retried" not in page.get_data(as_text=True)
    with app.app_context():   # no failed update listed: the words start the box
        db.session.execute(db.delete(DeadLetter))
        db.session.commit()
    _, page = statements_of(app, world, dashboard)
    assert _held_words(page.get_data(as_text=True)).startswith(f"None failed, but {held} grades of this")
    assert 'id="no-dead"' not in page.get_data(as_text=True)

    beat(app)   # a worker sends them: the old words
    _, page = statements_of(app, world, dashboard)
    assert 'id="held-grades"' not in page.get_data(as_text=True)
    assert "None: every gradebook update went through or is still being retried." in page.get_data(as_text=True)
