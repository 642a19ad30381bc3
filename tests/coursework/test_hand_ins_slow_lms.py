"""The deadline rush while the LMS is slow to answer (benchmarks/deadline_rush.py --lms-delay): a
hand-in is stored and answered without waiting behind the hand-ins already waiting on the LMS
gradebook, and the LMS is still told of it (by the worker), on the embedded SQLite and on
PostgreSQL. The LMS is the test peer over HTTP, holding its score calls."""
from __future__ import annotations

import threading
import time

from lti_app.extensions import db
from lti_app.lms import gradebook
from lti_app.models import OutboxEvent, Submission, User
from tests import heartbeats
from tests.coursework.flows import create_by_deep_link, open_assignment, post_form

HELD = 2         # hand-ins that may wait on the LMS at once in this process
LMS_DELAY = 8.0  # seconds the LMS takes to answer a score post
SCORES = "/scores"


def _score_posts(lms) -> int:
    return sum(1 for _, method, path in lms.service_calls("ags") if method == "POST" and path.endswith(SCORES))


def test_a_hand_in_is_answered_while_earlier_ones_wait_on_a_slow_lms(tool, make_peer):
    tool.app.config["GRADELOOP_LMS_INLINE_POSTS"] = HELD
    tool.app.config["GRADELOOP_HTTP_TIMEOUT"] = 30   # slow, not down: the held posts get their answer
    heartbeats.beat(tool.app)   # a worker tells the LMS of the hand-ins left to it (its beat is fresh for 30 s)
    lms = make_peer(tool)
    item = create_by_deep_link(lms, tool)
    students = [f"student-{i}" for i in range(1, HELD + 2)]
    opened = {s: open_assignment(lms, tool, user_id=s, resource_link_id=item["resource_link_id"])
              for s in students}
    lms.fail_next(len(students), mode="slow", delay=LMS_DELAY, match=SCORES)   # every score post is slow
    answers: dict[str, object] = {}

    def hand_in(student: str):
        browser, page = opened[student]
        answers[student] = post_form(browser, page, {"text": f"Essay by {student}. " * 40}, action_contains="/essay")

    waiting = [threading.Thread(target=hand_in, args=(s,)) for s in students[:HELD]]
    for thread in waiting:
        thread.start()
    deadline = time.monotonic() + 20
    while _score_posts(lms) < HELD:
        assert time.monotonic() < deadline, "the first hand-ins never reached the LMS"
        time.sleep(0.05)
    # Without the bound the last hand-in would wait behind them until the LMS answered.
    hand_in(students[-1])
    answered_before_the_lms = any(thread.is_alive() for thread in waiting)
    for thread in waiting:
        thread.join(LMS_DELAY + 20)

    assert answered_before_the_lms, "the hand-in waited for the LMS to answer the ones before it"
    last = answers[students[-1]]
    assert last.status_code == 200 and "was handed in" in last.text and "Your course page will show it shortly." in last.text
    assert _score_posts(lms) == HELD   # the last one left the LMS to the worker
    for student in students[:HELD]:
        assert answers[student].status_code == 200 and "was handed in" in answers[student].text
        assert "will show it shortly" not in answers[student].text   # waited, and the LMS took it
    with lms.state.lock:
        lms.state.failures.clear()   # the rush is over: the LMS answers the worker at once
    with tool.app.app_context():
        stored = dict(db.session.execute(db.select(User.sub, Submission.id).join(Submission, Submission.user_id == User.id)
                                         .where(User.sub.in_(students))).all())
        syncs = [e.payload["payload"] for e in db.session.scalars(
            db.select(OutboxEvent).filter_by(type="gradebook.sync"))]
        assert sorted(p["submission_id"] for p in syncs) == sorted(stored.values())
        # The worker tells the LMS of the last one (and skips nothing twice for the others).
        [last_sync] = [p for p in syncs if p["submission_id"] == stored[students[-1]]]
        assert gradebook.process_sync(last_sync) == gradebook.POSTED
    assert sorted(s["userId"] for s in lms.scores(item["line_item_id"])) == students
