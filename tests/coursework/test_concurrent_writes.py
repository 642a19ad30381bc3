"""Two people (or two tabs) changing the same assignment at once, on PostgreSQL and on the embedded
SQLite: a file uploaded twice at once, a scale edited while the first grade is saved."""
from __future__ import annotations

import io
import threading

from lti_app.coursework import imports
from lti_app.extensions import db
from lti_app.models import Grade, OutboxEvent, Role, Submission
from tests.coursework.helpers import build_world, login

CSV = ("text,score,comment\n" + "".join(f'"Essay number {i} about school uniforms and why they matter.",'
                                        f"{1 + i % 6},ok\n" for i in range(20))).encode()


def _at_once(*calls):
    threads = [threading.Thread(target=call) for call in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)


def test_one_file_uploaded_twice_at_once_is_stored_once(locking_app, monkeypatch):
    app = locking_app
    world = build_world(app)
    both_read = threading.Barrier(2, timeout=3)
    first_new_essay = threading.local()
    real_word_count = imports.word_count

    def word_count(text):   # each request holds here at its first new essay: both had looked
        if not getattr(first_new_essay, "seen", False):
            first_new_essay.seen = True
            try:
                both_read.wait()
            except threading.BrokenBarrierError:
                pass   # the other upload waits for this one
        return real_word_count(text)

    monkeypatch.setattr(imports, "word_count", word_count)
    answers = []

    def upload():
        client = app.test_client()
        token = login(client, app, course_id=world.course_a, user_id=world.teacher_a, role=Role.INSTRUCTOR)
        answers.append(client.post(f"/coursework/a/{world.assignment_a}/import", follow_redirects=True,
                                   data={"csrf_token": token, "file": (io.BytesIO(CSV), "grades.csv")}).status_code)

    _at_once(upload, upload)
    assert answers == [200, 200]
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Submission.id)).where(Submission.user_id.is_(None))) == 20
        assert db.session.scalar(db.select(db.func.count(Grade.id)).join(Submission)
                                 .where(Submission.user_id.is_(None))) == 20
        assert db.session.scalar(db.select(db.func.count(OutboxEvent.id))
                                 .where(OutboxEvent.type == "training.due")) == 1


def test_a_scale_edit_and_the_first_grade_at_once_agree_on_the_scale(locking_app, monkeypatch):
    """The teacher changes 1-6 to 1-10 while a TA saves the first grade: either the edit is refused
    (graded now) or the grade is on the new scale; never a 6 of 6 under a column out of 10."""
    from lti_app.coursework import settings as settings_view
    from lti_app.models import Assignment

    app = locking_app
    world = build_world(app)
    url = f"/coursework/a/{world.assignment_a}/essays/{world.essay_a}"
    ta = app.test_client()
    ta_csrf = login(ta, app, course_id=world.course_a, user_id=world.ta_a, role=Role.TA)
    seen = __import__("re").search(r'name="seen" value="([^"]+)"', ta.get(url).get_data(as_text=True)).group(1)
    real_has_grades, saving = settings_view.has_grades, []

    def has_grades(assignment):   # the TA saves between the edit's check and its write
        graded = real_has_grades(assignment)
        t = threading.Thread(target=lambda: ta.post(url, data={"csrf_token": ta_csrf, "seen": seen, "score": "6"}))
        t.start()
        t.join(1.5)   # it waits for the edit's lock (without one it commits at once)
        saving.append(t)
        return graded

    monkeypatch.setattr(settings_view, "has_grades", has_grades)
    teacher = app.test_client()
    csrf = login(teacher, app, course_id=world.course_a, user_id=world.teacher_a, role=Role.INSTRUCTOR)
    edit = teacher.post(f"/coursework/a/{world.assignment_a}/edit",
                        data={"csrf_token": csrf, "title": "Essay a", "prompt": "Discuss.", "score_min": "1",
                              "score_max": "10", "traits": ""})
    saving[0].join(30)
    assert edit.status_code == 303
    with app.app_context():
        assignment = db.session.get(Assignment, world.assignment_a)
        grade = db.session.scalar(db.select(Grade))
        assert grade is not None and grade.score == 6
        assert (grade.score_min, grade.score_max) == (assignment.score_min, assignment.score_max) == (1, 10)


def test_train_now_pressed_by_two_teachers_at_once_queues_one_training(locking_app, monkeypatch):
    """Both requests hold right after reading "is a training asked for?": without the assignment's
    lock both read "no" and queue a run each (the second trains again on the same grades)."""
    from lti_app.dashboard import report
    from worker.handlers import training

    app = locking_app
    world = build_world(app)
    monkeypatch.setattr(training, "min_graded", lambda assignment: 0)   # enough grades is not the point here
    both_read = threading.Barrier(2, timeout=2)
    real_status = report.training_status

    def training_status(assignment_id):
        status = real_status(assignment_id)
        try:
            both_read.wait()
        except threading.BrokenBarrierError:
            pass   # the other request waits for this one's lock
        return status

    monkeypatch.setattr(report, "training_status", training_status)
    answers = []

    def press():
        client = app.test_client()
        token = login(client, app, course_id=world.course_a, user_id=world.teacher_a, role=Role.INSTRUCTOR)
        answers.append(client.post(f"/dashboard/a/{world.assignment_a}/train", data={"csrf_token": token},
                                   follow_redirects=True).get_data(as_text=True))

    _at_once(press, press)
    assert sorted("Training requested. Progress shows below." in page for page in answers) == [False, True]
    assert any("A training is already under way" in page for page in answers)
    with app.app_context():
        due = db.session.scalars(db.select(OutboxEvent.payload).where(OutboxEvent.type == "training.due")).all()
        assert [message["payload"]["reason"] for message in due] == ["manual"]
