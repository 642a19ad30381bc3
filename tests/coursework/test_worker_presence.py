"""What teachers read when no Gradeloop worker runs (`lti_app/worker_presence.py`): a grade the LMS
did not take is "Held in Gradeloop", not "Waiting for the LMS ... Gradeloop keeps sending it ...
nothing for you to do", on the grading page after the save, the essay list's LMS column and banner,
"Send to the LMS again" and the review page; the auto-feedback dashboard says once that essays get
no AI feedback and the model does not train. A worker counts when its heartbeat row is fresh and
healthy and it serves that kind of work; rows are written by the worker's own code
(`tests/heartbeats.py`), pages come from the real tool over HTTP with a sandbox LMS."""
from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest

from lti_app import worker_presence
from lti_app.coursework import grade_in_lms
from lti_app.extensions import db
from lti_app.models import Assignment, FeedbackMode, ModelVersion, Role, WorkerHeartbeat
from tests.coursework.flows import (approve_while_the_lms_does_not_answer, create_by_deep_link, grade_page_for,
                                    graded_while_lms_down, open_assignment, post_form, submit_essay)
from tests.coursework.helpers import login
from tests.heartbeats import beat, beating, queue_names
from tests.worker.conftest import running_worker, wait_for
from worker import health

ESSAY = "A four-day week would give students time to rest.\n\nIt would also save energy."
NO_WORKER = "Gradeloop's background worker"
KEEPS_SENDING = ("keeps sending", "nothing for you to do", "nothing you need to do")


def _text(page) -> str:
    """The page's words as a teacher reads them."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page.text)).split())


def _notice_words(page) -> list[str]:
    found = re.findall(r'<(?:div|form|p)[^>]*class="notice notice-\w+"[^>]*>(.*?)</(?:div|form|p)>', page.text, re.S)
    return [" ".join(html.unescape(re.sub(r"<[^>]+>", "", words)).split()) for words in found]


def _lms_cell(listing) -> str:
    return re.search(r'data-label="LMS">(.*?)</td>', listing.text, re.S).group(1)


def _assert_held(saved, listing):
    """Both pages say that nothing sends the grade, that it is safe, and who starts the worker."""
    [words] = [w for w in _notice_words(saved) if "LMS" in w]
    assert words == grade_in_lms.SAVED_HELD, words
    sync_state = " ".join(re.search(r'id="sync-state">(.*?)</p>', saved.text, re.S).group(1).split())
    assert sync_state.startswith("Held in Gradeloop. The LMS gradebook does not have this grade yet"), sync_state
    assert "<summary>Held in Gradeloop</summary>" in _lms_cell(listing)
    [banner] = [w for w in _notice_words(listing) if "LMS" in w]
    assert banner.startswith(f"1 grade is not in the LMS gradebook and not being sent: {NO_WORKER}, which sends "
                             "grades to the LMS, is not running. It is safe in Gradeloop. Ask your Gradeloop "
                             "administrator to start the worker"), banner
    assert "Send to the LMS again" in banner
    for page in (saved, listing):
        assert not any(w in _text(page) for w in KEEPS_SENDING), _text(page)
    for said in (words, sync_state, banner, _lms_cell(listing)):
        assert not any(jargon in said.lower() for jargon in ("heartbeat", "queue", "broker")), said


def _assert_waiting(saved, listing):
    [words] = [w for w in _notice_words(saved) if "LMS" in w]
    assert "nothing for you to do" in words and "\u201cWaiting for the LMS\u201d" in words, words
    assert "<summary>Waiting for the LMS</summary>" in _lms_cell(listing)
    for page in (saved, listing):
        assert NO_WORKER not in _text(page) and "Held in Gradeloop" not in page.text


UNSERVED = {
    "no worker ever started": lambda app: None,
    "stale (gone for two minutes)": lambda app: beat(app, age=120),
    "broker unreachable": lambda app: beat(app, status="broker unreachable"),
    "stopped a minute ago": lambda app: beat(app, status="stopped", age=60),
    "hung on a training": lambda app: beat(app, status="stalled: train:assignment:1"),
    "serving only training": lambda app: beat(app, ("training",)),
    "another prefix's worker": lambda app: beat(app, prefix="bench"),
}


@pytest.mark.parametrize("workers", UNSERVED.values(), ids=UNSERVED.keys())
def test_a_grade_nothing_sends_is_held_and_says_why(peer, tool_server, workers):
    workers(tool_server.app)
    _, _, [saved], listing = graded_while_lms_down(peer, tool_server, ESSAY)
    _assert_held(saved, listing)


SERVED = {
    "one worker on every queue": lambda app: beat(app),
    "busy": lambda app: beat(app, status="busy: gradebook.sync"),
    "a GPU box on training beside one on the rest": lambda app: (beat(app, ("training",)),
                                                                 beat(app, ("scoring", "gradebook"))),
    "a stopped one beside a healthy one": lambda app: (beat(app, status="stopped", age=60), beat(app)),
    # A restart (a deploy, `docker compose restart worker`): the old process's last beat says
    # "stopped", the new one's first beat follows within seconds.
    "one stopped a moment ago": lambda app: beat(app, status="stopped"),
}


@pytest.mark.parametrize("workers", SERVED.values(), ids=SERVED.keys())
def test_a_healthy_worker_keeps_the_waiting_words(peer, tool_server, workers):
    workers(tool_server.app)
    _, _, [saved], listing = graded_while_lms_down(peer, tool_server, ESSAY)
    _assert_waiting(saved, listing)


def test_the_heartbeat_setting_decides_when_a_row_is_stale(peer, make_tool_server, make_peer):
    """A worker beating every minute (GRADELOOP_HEARTBEAT_SECONDS=60, set for web and worker alike)
    is not taken for gone between beats."""
    tool = make_tool_server(GRADELOOP_HEARTBEAT_SECONDS=60)
    beat(tool.app, age=100)
    _, _, [saved], listing = graded_while_lms_down(make_peer(tool), tool, ESSAY)
    _assert_waiting(saved, listing)


def test_nothing_is_said_when_nothing_waits(peer, tool_server):
    """A fresh install without a worker: a grade the LMS took, an essay not graded yet."""
    item = create_by_deep_link(peer, tool_server)
    for n, name in enumerate(("Ada Student", "Bo Student")):
        submit_essay(peer, tool_server, item["resource_link_id"], f"student-{n + 1}", ESSAY, name=name)
    teacher, listing = open_assignment(peer, tool_server, role="Instructor", user_id="teacher-1",
                                       resource_link_id=item["resource_link_id"])
    saved = post_form(teacher, grade_page_for(teacher, listing, "Ada Student"), {"score": "4"},
                      action_contains="/essays/")
    assert "Grade saved and sent to the LMS gradebook." in saved.text
    listing = teacher.get(listing.url, timeout=30)
    for page in (saved, listing, grade_page_for(teacher, listing, "Bo Student")):
        assert NO_WORKER not in _text(page) and "Held in Gradeloop" not in page.text
    assert 'id="lms-banner"' not in listing.text


def test_send_again_does_not_promise_a_worker_that_is_not_there(peer, tool_server):
    _, teacher, _, listing = graded_while_lms_down(peer, tool_server, ESSAY, ("Ada Student", "Bo Student"))
    peer.fail_next(1, status=503, match="/scores")   # still down: the first try stops the loop
    resent = post_form(teacher, listing, action_contains="/resend")
    [words] = [w for w in _notice_words(resent) if "grades sent" in w]
    assert words == (f"0 of 2 grades sent. The LMS stopped answering. Nothing sends them later: {NO_WORKER}, "
                     "which sends grades to the LMS, is not running. They are safe in Gradeloop; send them again "
                     "once the LMS answers, or ask your Gradeloop administrator to start the worker."), words


def test_send_again_of_one_grade_says_it_in_words(peer, tool_server):
    """"0 of 1 grades sent. ... The other 1 is not sent" (walk3 #3): one grade, none sent, so no "other"."""
    _, teacher, _, listing = graded_while_lms_down(peer, tool_server, ESSAY)
    peer.fail_next(1, status=503, match="/scores")
    resent = post_form(teacher, listing, action_contains="/resend")
    [words] = [w for w in _notice_words(resent) if "not sent" in w]
    assert words == (f"The grade was not sent. The LMS stopped answering. Nothing sends it later: {NO_WORKER}, "
                     "which sends grades to the LMS, is not running. It is safe in Gradeloop; send it again once "
                     "the LMS answers, or ask your Gradeloop administrator to start the worker."), words
    beat(tool_server.app)   # with a worker
    peer.fail_next(1, status=503, match="/scores")
    resent = post_form(teacher, teacher.get(listing.url, timeout=30), action_contains="/resend")
    [words] = [w for w in _notice_words(resent) if "not sent" in w]
    assert words == ("The grade was not sent. The LMS stopped answering. It is queued; Gradeloop keeps sending it "
                     "on its own."), words


@pytest.mark.parametrize("mode, model, said", [(FeedbackMode.REVIEW, True, True), (FeedbackMode.OFF, True, False),
                                               (FeedbackMode.REVIEW, False, False)],
                         ids=["scored", "auto-feedback off", "no course model yet"])
def test_the_held_banner_says_new_essays_wait_only_where_they_would_be_scored(peer, tool_server, mode, model, said):
    """"(until then, new essays are not scored either)" was said where no essay would be scored
    with a worker either (walk3 #5)."""
    _, teacher, _, listing = graded_while_lms_down(peer, tool_server, ESSAY)
    with tool_server.app.app_context():
        assignment = db.session.scalar(db.select(Assignment))
        assignment.feedback_mode = mode
        if model:
            version = ModelVersion(assignment_id=assignment.id, version=1, status="promoted",
                                   approach="frozen-ridge", path="models/1")
            db.session.add(version)
            db.session.flush()
            assignment.current_model_id = version.id
        db.session.commit()
    [banner] = [w for w in _notice_words(teacher.get(listing.url, timeout=30)) if "LMS" in w]
    assert "Held" not in banner and NO_WORKER in banner, banner
    assert ("start the worker (until then, new essays are not scored either);" in banner) is said, banner


def test_a_proposal_approved_without_a_worker_says_so(peer, tool_server):
    approved = approve_while_the_lms_does_not_answer(peer, tool_server, ESSAY)
    [words] = [w for w in _notice_words(approved) if "LMS" in w]
    assert words == grade_in_lms.SAVED_HELD, words


def test_a_real_worker_starting_and_stopping_changes_what_the_list_says(peer, tool_server):
    """`gradeloop worker` itself (in a thread, on the tool's broker): while it runs the grade waits
    for the LMS; once it has stopped, nothing sends it."""
    _, teacher, [saved], listing = graded_while_lms_down(peer, tool_server, ESSAY)
    _assert_held(saved, listing)
    peer.fail_next(1000, status=503, match="/scores")   # the LMS stays down while the worker tries
    with running_worker(tool_server.app, queues=["gradebook"]):
        listing = wait_for(lambda: (page := teacher.get(listing.url, timeout=30)) and
                           "<summary>Waiting for the LMS</summary>" in _lms_cell(page) and page, 30,
                           what="the list to count the running worker")
        assert NO_WORKER not in _text(listing)
    # It beat "stopped" on its way out: a restarted worker's first beat would follow within
    # seconds, so the list keeps its words for three beats, and only then says nothing sends it.
    listing = teacher.get(listing.url, timeout=30)
    assert "<summary>Waiting for the LMS</summary>" in _lms_cell(listing)
    _age_every_row(tool_server.app, seconds=31)
    listing = teacher.get(listing.url, timeout=30)
    assert "<summary>Held in Gradeloop</summary>" in _lms_cell(listing)


def _age_every_row(app, seconds: float) -> None:
    """Every worker's last beat `seconds` earlier than it was: time passing without beats."""
    with app.app_context():
        for row in db.session.scalars(db.select(WorkerHeartbeat)):
            row.last_seen -= timedelta(seconds=seconds)
        db.session.commit()


def test_a_worker_restart_keeps_the_waiting_words_but_not_the_healthcheck(peer, tool_server):
    """The grace is the pages' alone: `gradeloop worker-status --check` (the docker healthcheck)
    still fails for the stopped worker at once."""
    app = tool_server.app
    old = beat(app)
    with app.app_context():   # graceful stop (SIGTERM): its last beat says so
        health.beat(old, "test-host", queue_names(app), "stopped")
        assert not health.is_healthy("test-host", 30)
    _, _, [saved], listing = graded_while_lms_down(peer, tool_server, ESSAY)
    _assert_waiting(saved, listing)


# --- the dashboard ---------------------------------------------------------------------------

def _dashboard(app, client, world, mode: FeedbackMode) -> list[str]:
    with app.app_context():
        db.session.get(Assignment, world.assignment_a).feedback_mode = mode
        db.session.commit()
    login(client, app, course_id=world.course_a, user_id=world.teacher_a, role=Role.INSTRUCTOR,
          platform_id=world.platform)
    page = client.get(f"/dashboard/a/{world.assignment_a}").get_data(as_text=True)
    return [" ".join(html.unescape(re.sub(r"<[^>]+>", "", w)).split())
            for w in re.findall(r'id="no-worker">(.*?)</p>', page, re.S)]


@pytest.mark.parametrize("mode", [FeedbackMode.REVIEW, FeedbackMode.AUTO_RELEASE])
def test_the_dashboard_says_once_that_essays_get_no_feedback_without_a_worker(app, client, world, mode):
    assert _dashboard(app, client, world, mode) == [
        "Gradeloop's background worker is not running, so essays handed in get no AI feedback (they wait for you "
        "to grade them) and the course model does not train until your Gradeloop administrator starts it. "
        "Everything you have graded is safe in Gradeloop."]


def test_the_dashboard_names_only_what_no_worker_does(app, client, world):
    beat(app, ("scoring", "gradebook"))   # the training box is down
    [words] = _dashboard(app, client, world, FeedbackMode.REVIEW)
    assert "the course model does not train" in words and "AI feedback" not in words, words


@pytest.mark.parametrize("mode, workers", [(FeedbackMode.REVIEW, lambda app: beat(app)),
                                           (FeedbackMode.OFF, lambda app: None)], ids=["healthy worker", "mode off"])
def test_the_dashboard_says_nothing_when_nothing_waits_on_a_worker(app, client, world, mode, workers):
    workers(app)
    assert _dashboard(app, client, world, mode) == []


# --- the question itself ---------------------------------------------------------------------

def test_served_kinds_from_the_heartbeat_rows(locking_app):
    """On SQLite and PostgreSQL (timestamps with time zones, the JSON list of queues)."""
    app = locking_app
    with app.app_context():
        assert worker_presence.served() == frozenset()
    beat(app, ("training",))
    beat(app, ("scoring",), status="broker unreachable")
    with app.app_context():
        assert worker_presence.served() == {"training"}
    with beating(app, ("scoring", "gradebook")):
        with app.app_context():
            wait_for(lambda: worker_presence.served() == {"training", "scoring", "gradebook"}, 10,
                     what="the heartbeat thread's first beat")


@pytest.mark.postgres
def test_hosts_whose_clocks_differ_agree_on_a_fresh_beat(make_app, own_postgres, monkeypatch):
    """Web and worker on different hosts share only the database: beats are written and judged by
    its clock, so a web host a minute ahead of the worker's still sees the worker. (SQLite is one
    host, one clock.)"""
    app = make_app(database_url=own_postgres)
    beat(app)   # the worker host, on time
    ahead = health.utcnow() + timedelta(minutes=1)
    monkeypatch.setattr(health, "utcnow", lambda: ahead)   # the web host's clock
    with app.app_context():
        assert worker_presence.served() == {"scoring", "training", "gradebook"}
        [row] = health.worker_rows(30)
        assert row["status"] == "idle" and abs(row["age_seconds"]) < 5, row


def test_without_a_worker_a_hand_in_left_to_it_is_not_promised(app, world):
    """Past `GRADELOOP_LMS_INLINE_POSTS` hand-ins waiting on the LMS, a hand-in is left to the worker:
    its words say so only while a worker takes gradebook work."""
    from lti_app.coursework import lms_sync

    app.config["GRADELOOP_LMS_INLINE_POSTS"] = 0   # every slot taken
    with app.app_context():
        assert "will tell it" not in lms_sync.push_submission_now(world.essay_a)
    beat(app, ("gradebook",))
    with app.app_context():
        assert lms_sync.push_submission_now(world.essay_a).endswith("Gradeloop's worker will tell it of this one.")
