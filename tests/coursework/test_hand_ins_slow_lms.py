"""The deadline rush while the LMS is slow to answer (benchmarks/deadline_rush.py --lms-delay): a
hand-in is stored and answered without waiting behind the hand-ins already waiting on the LMS
gradebook, and the LMS is still told of it (by the worker), on the embedded SQLite and on PostgreSQL."""
from __future__ import annotations

import threading

from lti_app.extensions import db
from lti_app.lms import gradebook
from lti_app.models import CourseRole, OutboxEvent, Role, Submission, User
from tests.coursework.helpers import build_world, login

HELD = 2   # hand-ins that may wait on the LMS at once in this process


def _students(app, world, n: int) -> list[int]:
    with app.app_context():
        users = [User(platform_id=world.platform, sub=f"rush-{i}", name=f"Rush {i}") for i in range(n)]
        db.session.add_all(users)
        db.session.flush()
        db.session.add_all(CourseRole(course_id=world.course_a, user_id=u.id, role=Role.LEARNER) for u in users)
        db.session.commit()
        return [u.id for u in users]


def test_a_hand_in_is_answered_while_earlier_ones_wait_on_a_slow_lms(locking_app, monkeypatch):
    app = locking_app
    app.config["GRADELOOP_LMS_INLINE_POSTS"] = HELD
    world = build_world(app)
    students = _students(app, world, HELD + 1)
    lms_answers = threading.Event()
    reached_lms = threading.Semaphore(0)
    # Without the bound the last hand-in would wait here too: the LMS answers at last, after 15 s.
    threading.Timer(15, lms_answers.set).start()

    def slow_lms(payload):
        reached_lms.release()
        lms_answers.wait()
        return "posted"

    monkeypatch.setattr(gradebook, "process_sync", slow_lms)

    def hand_in(user_id: int, answers: list):
        client = app.test_client()
        token = login(client, app, course_id=world.course_a, user_id=user_id, role=Role.LEARNER,
                      resource_link_id=world.link_a)
        answers.append(client.post(f"/coursework/a/{world.assignment_a}/essay", follow_redirects=True,
                                   data={"csrf_token": token, "text": f"Essay by student {user_id}. " * 40}))

    early: list = []
    waiting = [threading.Thread(target=hand_in, args=(user_id, early)) for user_id in students[:HELD]]
    for thread in waiting:
        thread.start()
    for _ in range(HELD):
        assert reached_lms.acquire(timeout=20), "the first hand-ins never reached the LMS"
    last: list = []
    hand_in(students[-1], last)
    answered_before_the_lms = not lms_answers.is_set()
    lms_answers.set()
    for thread in waiting:
        thread.join(30)

    assert answered_before_the_lms, "the hand-in waited for the LMS to answer the ones before it"
    page = last[0].get_data(as_text=True)
    assert last[0].status_code == 200 and "was handed in" in page and "gradebook will show it shortly" in page
    assert [a.status_code for a in early] == [200] * HELD and all("was handed in" in a.get_data(as_text=True)
                                                                  for a in early)
    with app.app_context():
        stored = db.session.scalars(db.select(Submission.id).where(Submission.user_id.in_(students))).all()
        syncs = [e["payload"]["submission_id"] for e in db.session.scalars(
            db.select(OutboxEvent.payload).where(OutboxEvent.type == "gradebook.sync"))]
    assert len(stored) == HELD + 1
    assert sorted(syncs) == sorted(stored)   # the worker tells the LMS of each, the last one included
