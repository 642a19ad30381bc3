"""Two processes pushing to the gradebook of an assignment that has no LMS column yet (the launch
carried no lineitem URL and creating it at setup failed) must create exactly one column: here the
teacher's "send again" request (`push_grade`) and the worker's `gradebook.sync` event for another
student's hand-in (`process_sync`) run at once against a slow LMS, on PostgreSQL."""
import threading

import pytest

from lti_app.extensions import db
from lti_app.lms import gradebook
from lti_app.models import Assignment, Grade, OutboxEvent, Submission, User
from tests.coursework.flows import COURSE, grade_page_for, open_assignment, post_form, submit_essay
from tests.heartbeats import beat

ESSAY = "Homework should be optional, because rest helps students learn better the next day."


def _assignment_without_column(lms, tool):
    """A hand-added placement whose column the LMS failed to create at setup, with two hand-ins
    and one grade that the LMS did not get either (after that failure the web process leaves the
    LMS alone for a minute, `lms_quiet`: they are left to the worker, untried)."""
    lms.add_resource_link(COURSE, "rl-race", title="Homework essay")
    teacher, page = open_assignment(lms, tool, role="Instructor", user_id="teacher-1", resource_link_id="rl-race")
    lms.fail_next(1, status=503, match="POST")
    done = post_form(teacher, page, {"title": "Homework essay", "prompt": "Argue.", "score_min": "1", "score_max": "6"})
    assert "The LMS gradebook column is not ready yet" in done.text, done.text[:800]
    calls = len(lms.service_calls())
    for student, name in (("student-1", "Ada Student"), ("student-2", "Bo Student")):
        submit_essay(lms, tool, "rl-race", student, ESSAY, name=name)
    listing = teacher.get(done.url, timeout=30)
    beat(tool.app)   # a worker runs (it is what sends such a grade later)
    saved = post_form(teacher, grade_page_for(teacher, listing, "Ada Student"), {"score": "5"},
                      action_contains="/essays/")
    # Not tried (the LMS did not answer a moment ago): waiting, as the essay list will say.
    assert "Gradeloop keeps sending the grade on its own" in saved.text, saved.text[:800]
    assert [c for c in lms.service_calls()[calls:] if c[0] == "ags"] == []   # nothing waited on the LMS
    assert lms.line_items(COURSE) == []
    with tool.app.app_context():
        assert db.session.scalar(db.select(Assignment)).lineitem_url is None
        grade_id = db.session.scalar(db.select(Grade.id))
        submission_id = db.session.scalar(db.select(Submission.id).join(User, User.id == Submission.user_id)
                                          .where(User.sub == "student-2"))
        events = db.session.scalars(db.select(OutboxEvent).filter_by(type="gradebook.sync")).all()
        [hand_in] = [e.payload["payload"] for e in events if e.payload["payload"]["submission_id"] == submission_id]
        return grade_id, hand_in


@pytest.mark.postgres
def test_concurrent_pushes_create_one_line_item(make_tool_server, make_peer, own_postgres):
    tool = make_tool_server(database_url=own_postgres)
    lms = make_peer(tool)
    grade_id, hand_in_payload = _assignment_without_column(lms, tool)

    # A slow LMS: each column creation takes a second, so both callers have searched (and found
    # nothing) long before either column exists, unless the second waits for the first.
    lms.fail_next(2, mode="slow", delay=1.0, services=("ags",), match="POST")
    start = threading.Barrier(2, timeout=10)
    outcome: dict[str, object] = {}

    def run(name, function, *args):
        with tool.app.app_context():
            try:
                start.wait()
                outcome[name] = function(*args)
            except Exception as exc:   # reported by the main thread
                db.session.rollback()
                outcome[name] = exc

    threads = [threading.Thread(target=run, args=("web", gradebook.push_grade, grade_id)),
               threading.Thread(target=run, args=("worker", gradebook.process_sync, hand_in_payload))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not any(thread.is_alive() for thread in threads), "a caller is stuck"
    assert outcome == {"web": gradebook.POSTED, "worker": gradebook.POSTED}

    items = lms.line_items(COURSE)
    assert len(items) == 1, f"duplicate gradebook columns: {[i['id'] for i in items]}"
    [item] = items
    scores = lms.scores(item["id"])
    assert sorted((s["userId"], s["gradingProgress"]) for s in scores) == [
        ("student-1", "FullyGraded"), ("student-2", "PendingManual")]   # both callers used the one column
    with tool.app.app_context():
        assert db.session.scalar(db.select(Assignment)).lineitem_url == item["id"]


def test_a_push_that_creates_the_column_does_not_hold_sqlite_while_it_posts(make_tool_server, make_peer):
    """The embedded SQLite has one write lock for the whole database: a push that created the
    column kept it (through the flush of the new URL) while it waited for the LMS to take the score,
    so every hand-in, launch and save failed with "database is locked" behind a slow LMS."""
    from tests.sqlite_writers import writes_refused_while

    tool = make_tool_server()
    lms = make_peer(tool)
    grade_id, _ = _assignment_without_column(lms, tool)
    db_path = tool.app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")
    lms.fail_next(2, mode="slow", delay=2.0, services=("ags",), match="POST")   # create the column, post
    pushed = {}

    def push():
        with tool.app.app_context():
            pushed["outcome"] = gradebook.push_grade(grade_id)

    refused = writes_refused_while(threading.Thread(target=push), db_path, wait_s=0.5)
    assert pushed["outcome"] == gradebook.POSTED
    assert refused == []
    with tool.app.app_context():
        assert db.session.get(Grade, grade_id).posted_at is not None


@pytest.mark.postgres
def test_column_creation_does_not_hold_the_assignment_row(make_tool_server, make_peer, own_postgres):
    """While a push waits on the LMS to create the column, the assignment's row stays free: the
    worker scoring an essay (FOR SHARE), an import and a scale edit (FOR UPDATE) take it at once.
    The row lock used before made them all wait up to three HTTP timeouts behind a slow LMS."""
    import time

    from sqlalchemy import create_engine, text

    tool = make_tool_server(database_url=own_postgres)
    lms = make_peer(tool)
    grade_id, _ = _assignment_without_column(lms, tool)
    lms.fail_next(1, mode="slow", delay=4.0, services=("ags",), match="POST")   # the column creation
    before = len(lms.service_calls("ags"))
    pushed = {}

    def push():
        with tool.app.app_context():
            pushed["outcome"] = gradebook.push_grade(grade_id)

    pusher = threading.Thread(target=push)
    pusher.start()
    deadline = time.monotonic() + 20
    while not any(method == "POST" for _, method, _ in lms.service_calls("ags")[before:]):
        assert time.monotonic() < deadline, "the push never asked the LMS for a column"
        time.sleep(0.02)
    other = create_engine(own_postgres)
    try:
        with other.connect() as conn:
            # An outcome, not a timing: a lock the push holds makes this fail with
            # "canceling statement due to lock timeout" while the LMS is still answering.
            conn.execute(text("SET lock_timeout = '1s'"))
            for lock in ("FOR SHARE", "FOR UPDATE"):
                assert conn.execute(text(f"SELECT id FROM assignments {lock}")).all(), lock
            conn.rollback()
    finally:
        other.dispose()
    pusher.join(30)
    assert pushed["outcome"] == gradebook.POSTED
    assert len(lms.line_items(COURSE)) == 1
