"""Saving a grade over something the grader never saw: the student handed in a new version while
the grading page was open, a co-grader saved a newer grade, or two reviewers decided the same AI
proposal. Each is refused in words and nothing is stored; and a save tells the truth about the
LMS (Flask test client, fresh SQLite). The races that need a row lock run on PostgreSQL and on the
embedded SQLite, which has no row locks (`lti_app.locking` takes its write lock instead)."""
from __future__ import annotations

import re
import threading
import time
from contextlib import contextmanager
from datetime import timedelta

import pytest

from lti_app.coursework import grading
from lti_app.extensions import db
from lti_app.locking import for_update
from lti_app.models import AiProposal, Assignment, Grade, Role, Submission, SubmissionStatus
from lti_app.review.decisions import AlreadyDecided, decide
from tests.coursework.helpers import build_world, count, login


def _seen(page) -> str:
    return re.search(r'name="seen" value="([^"]+)"', page.get_data(as_text=True)).group(1)


def _grade_url(world) -> str:
    return f"/coursework/a/{world.assignment_a}/essays/{world.essay_a}"


def test_grade_for_a_version_the_teacher_never_read_is_refused(client, app, world):
    csrf = login(client, app, course_id=world.course_a, user_id=world.teacher_a, role=Role.INSTRUCTOR)
    seen = _seen(client.get(_grade_url(world)))
    with app.app_context():   # the student hands in a second version meanwhile
        essay = db.session.get(Submission, world.essay_a)
        essay.text, essay.submitted_at = "My second, much better version.", essay.submitted_at + timedelta(minutes=3)
        db.session.commit()
    stale = client.post(_grade_url(world), data={"csrf_token": csrf, "seen": seen, "score": "2", "comment": "Thin."})
    assert stale.status_code == 409
    html = stale.get_data(as_text=True)
    assert "the student handed in a new version" in html and "Your grade was not saved" in html
    assert "My second, much better version." in html and 'value="2"' in html   # the new text; the typed score kept
    with app.app_context():
        assert count(Grade) == 0
    fresh = client.post(_grade_url(world), data={"csrf_token": csrf, "seen": _seen(stale), "score": "5"})
    assert fresh.status_code == 303
    with app.app_context():
        assert db.session.scalar(db.select(Grade.score)) == 5


def test_older_page_does_not_overwrite_a_co_graders_newer_grade(client, app, world):
    csrf = login(client, app, course_id=world.course_a, user_id=world.teacher_a, role=Role.INSTRUCTOR)
    teacher_seen = _seen(client.get(_grade_url(world)))
    ta = app.test_client()
    ta_csrf = login(ta, app, course_id=world.course_a, user_id=world.ta_a, role=Role.TA)
    assert ta.post(_grade_url(world), data={"csrf_token": ta_csrf, "seen": _seen(ta.get(_grade_url(world))),
                                            "score": "3", "comment": "Average."}).status_code == 303
    late = client.post(_grade_url(world), data={"csrf_token": csrf, "seen": teacher_seen, "score": "6"})
    assert late.status_code == 409
    html = late.get_data(as_text=True)
    assert "Ta A saved a grade of 3" in html
    assert "by Ta A" in html   # the history names who graded
    with app.app_context():
        assert [g.score for g in db.session.scalars(db.select(Grade))] == [3]


def test_a_double_click_on_save_is_answered_saved_once(client, app, world):
    """The second request of a double click carries the same page's token: its grade was saved by
    the first, so it is told "saved" (not "your grade was not saved") and nothing is stored twice.
    The same form with another value, or another grader's page, is still a conflict."""
    csrf = login(client, app, course_id=world.course_a, user_id=world.teacher_a, role=Role.INSTRUCTOR)
    form = {"csrf_token": csrf, "seen": _seen(client.get(_grade_url(world))), "score": "4", "comment": "Clear claim."}
    assert client.post(_grade_url(world), data=form).status_code == 303
    again = client.post(_grade_url(world), data=form, follow_redirects=True)
    assert again.status_code == 200 and "Grade saved." in again.get_data(as_text=True)
    assert "not saved" not in again.get_data(as_text=True)
    changed = client.post(_grade_url(world), data={**form, "score": "5"})
    assert changed.status_code == 409 and "Teacher A saved a grade of 4" in changed.get_data(as_text=True)
    with app.app_context():
        assert [g.score for g in db.session.scalars(db.select(Grade))] == [4]


def test_a_grade_auto_released_meanwhile_is_named_as_such(client, app, world):
    from lti_app.models import GradeSource

    csrf = login(client, app, course_id=world.course_a, user_id=world.teacher_a, role=Role.INSTRUCTOR)
    seen = _seen(client.get(_grade_url(world)))
    with app.app_context():
        db.session.add(Grade(submission_id=world.essay_a, score=4, source=GradeSource.AI_AUTO, score_min=1,
                             score_max=6, comment="Machine feedback."))
        db.session.commit()
    late = client.post(_grade_url(world), data={"csrf_token": csrf, "seen": seen, "score": "2"})
    assert late.status_code == 409 and "auto-feedback released a grade of 4" in late.get_data(as_text=True)


def test_two_reviewers_deciding_one_proposal_release_one_grade(app, world):
    with app.app_context():
        proposal = AiProposal(submission_id=world.essay_a, score=4, confidence=0.8, trait_scores={}, feedback="Good.",
                              status="pending", unusual=[])
        db.session.add(proposal)
        db.session.commit()
        assignment = db.session.get(Assignment, world.assignment_a)
        proposal = db.session.get(AiProposal, proposal.id)   # reviewer 1 has read it: pending
        with db.engine.begin() as other:                       # reviewer 2 approves it meanwhile
            other.execute(db.update(AiProposal).where(AiProposal.id == proposal.id).values(status="approved"))
        assert proposal.status == "pending"                    # what reviewer 1's request still believes
        with pytest.raises(AlreadyDecided, match="Someone else decided"):
            decide(assignment, proposal, {"score": 2, "comment": "Weak."}, world.teacher_a)
        db.session.rollback()
        assert count(Grade) == 0


def test_grading_a_teachers_own_essay_does_not_claim_it_reached_the_lms(client, app, world):
    with app.app_context():
        own = Submission(assignment_id=world.assignment_a, user_id=world.teacher_a, text="Trying it out myself.",
                         word_count=4)
        db.session.add(own)
        db.session.commit()
        url = f"/coursework/a/{world.assignment_a}/essays/{own.id}"
    csrf = login(client, app, course_id=world.course_a, user_id=world.teacher_a, role=Role.INSTRUCTOR)
    page = client.post(url, data={"csrf_token": csrf, "score": "4"}, follow_redirects=True).get_data(as_text=True)
    assert "Grade saved. Not sent to the LMS: this essay belongs to a teacher" in page
    assert "sent to the LMS gradebook." not in page


@pytest.mark.postgres
def test_times_read_from_postgresql_are_utc_whatever_the_servers_zone(own_postgres, make_app):
    """Pages print times labelled UTC; psycopg returns timestamptz in the session's zone, which
    is the server's unless the app sets it (a school's server may run in Europe/Berlin)."""
    from datetime import datetime, timezone

    import sqlalchemy as sa

    admin = sa.create_engine(own_postgres, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        name = own_postgres.rsplit("/", 1)[1]
        conn.execute(sa.text(f"ALTER DATABASE \"{name}\" SET timezone = 'Europe/Berlin'"))
    admin.dispose()
    app = make_app(database_url=own_postgres)
    noon = datetime(2026, 1, 10, 12, 0, tzinfo=timezone.utc)
    world = build_world(app)
    with app.app_context():
        db.session.get(Submission, world.essay_a).submitted_at = noon
        db.session.commit()
        db.session.expire_all()
        read = db.session.get(Submission, world.essay_a).submitted_at
    assert read.strftime("%H:%M") == "12:00" and read.utcoffset().total_seconds() == 0


def test_a_hand_in_waits_for_a_grade_being_saved_and_is_then_refused(locking_app):
    """The worker (auto-release) or a teacher holds the essay's row while it sets GRADED; a new
    version handed in meanwhile must not replace the text of an essay whose grade is in the LMS."""
    app = locking_app
    world = build_world(app)
    with _graded_while_row_locked(app, world.essay_a):
        student = app.test_client()
        csrf = login(student, app, course_id=world.course_a, user_id=world.student1_a, role=Role.LEARNER,
                     resource_link_id=world.link_a)
        answer = student.post(f"/coursework/a/{world.assignment_a}/essay",
                              data={"csrf_token": csrf, "text": "Version 2."})
    assert answer.status_code == 400 and "already been graded" in answer.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Submission, world.essay_a).text == "My essay about things."


def test_an_approval_waits_for_a_grade_being_saved_and_leaves_it(locking_app):
    """A teacher's grade being saved on the grading page (the essay's row locked) while a colleague
    approves the AI proposal from the queue: the approval waits, sees the grade and changes nothing,
    so the AI's score never silently replaces the teacher's."""
    app = locking_app
    world = build_world(app)
    with app.app_context():
        proposal = AiProposal(submission_id=world.essay_a, score=6, confidence=0.9, trait_scores={},
                              feedback="Excellent.", status="pending", unusual=[])
        db.session.add(proposal)
        db.session.commit()
        proposal_id = proposal.id
    with _graded_while_row_locked(app, world.essay_a, score=2):
        ta = app.test_client()
        csrf = login(ta, app, course_id=world.course_a, user_id=world.ta_a, role=Role.TA)
        answer = ta.post(f"/review/a/{world.assignment_a}/approve",
                         data={"csrf_token": csrf, "proposal": [str(proposal_id)]}, follow_redirects=True)
    assert "0 proposals approved. 1 had been graded" in answer.get_data(as_text=True)
    with app.app_context():
        assert [g.score for g in db.session.scalars(db.select(Grade))] == [2]
        assert db.session.get(AiProposal, proposal_id).status == "pending"


def test_two_graders_saving_one_essay_at_once_one_is_refused(locking_app, monkeypatch):
    """Teacher and TA save the same essay at the same moment from pages opened before either saved:
    one save goes through, the other is told whose grade it would replace (both were told "saved"
    on SQLite, and one grade and its comment silently disappeared)."""
    app = locking_app
    world = build_world(app)
    both_checked = threading.Barrier(2, timeout=3)
    real_save = grading.save_grade

    def save_grade(*args, **kwargs):   # hold each request after its "changed since opened" check
        try:
            both_checked.wait()
        except threading.BrokenBarrierError:
            pass   # the other request is waiting for the lock this one holds
        return real_save(*args, **kwargs)

    monkeypatch.setattr(grading, "save_grade", save_grade)
    graders = {}
    for who, uid, role in (("teacher", world.teacher_a, Role.INSTRUCTOR), ("ta", world.ta_a, Role.TA)):
        c = app.test_client()
        csrf = login(c, app, course_id=world.course_a, user_id=uid, role=role)
        graders[who] = (c, csrf, _seen(c.get(_grade_url(world))))
    answers = {}

    def save(who, score, comment):
        c, csrf, seen = graders[who]
        answers[who] = c.post(_grade_url(world), data={"csrf_token": csrf, "seen": seen, "score": score,
                                                       "comment": comment}).status_code

    threads = [threading.Thread(target=save, args=("teacher", "5", "Strong thesis.")),
               threading.Thread(target=save, args=("ta", "2", "Off topic."))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(answers.values()) == [303, 409], answers
    with app.app_context():
        assert count(Grade) == 1


@contextmanager
def _graded_while_row_locked(app, essay_id: int, score: float | None = None):
    """Another connection locks the essay's row and sets GRADED (adding a teacher grade of `score`),
    holds it for a second while the block runs its request, then commits."""
    from lti_app.models import GradeSource

    locked, done = threading.Event(), threading.Event()

    def grade_being_saved():
        with app.app_context():
            essay = db.session.execute(for_update(db.select(Submission).where(Submission.id == essay_id))
                                       ).scalar_one()
            if score is not None:
                db.session.add(Grade(submission_id=essay.id, score=score, source=GradeSource.TEACHER,
                                     score_min=1, score_max=6, comment="Thin."))
            essay.status = SubmissionStatus.GRADED
            db.session.flush()
            locked.set()
            time.sleep(1.0)
            db.session.commit()
            done.set()

    saver = threading.Thread(target=grade_being_saved)
    saver.start()
    assert locked.wait(10)
    yield
    saver.join(10)
    assert done.is_set()
