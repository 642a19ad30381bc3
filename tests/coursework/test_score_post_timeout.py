"""A score the LMS took but answered after GRADELOOP_HTTP_TIMEOUT (a slow Canvas afternoon): the
retry first reads the student's result and does not post it again, since Canvas adds each post's
comment to the submission (the student would read the teacher's feedback twice). A post the LMS
did not take is sent again."""

from lti_app.extensions import db
from lti_app.lms import gradebook
from lti_app.models import Grade
from tests.coursework.flows import COURSE, grade_page_for, open_assignment, post_form, submit_essay
from tests.worker.conftest import wait_for

ESSAY = "Homework should be optional, because rest helps students learn better the next day."
COMMENT = "Clear claim; cite the article."


def _set_up(make_tool_server, make_peer):
    tool = make_tool_server()
    lms = make_peer(tool, product_family="canvas")
    lms.add_resource_link(COURSE, "rl-t", title="Homework essay")
    teacher, page = open_assignment(lms, tool, role="Instructor", user_id="teacher-1", resource_link_id="rl-t")
    done = post_form(teacher, page, {"title": "Homework essay", "prompt": "Argue.", "score_min": "1", "score_max": "6"})
    submit_essay(lms, tool, "rl-t", "student-1", ESSAY, name="Ada Student")
    return tool, lms, teacher, teacher.get(done.url, timeout=30)


def _graded_comments(lms):
    [item] = lms.line_items(COURSE)
    return [s.get("comment") for s in lms.scores(item["id"]) if s.get("gradingProgress") == "FullyGraded"]


def _retry(tool):
    with tool.app.app_context():
        grade = db.session.scalar(db.select(Grade).order_by(Grade.id.desc()))
        assert grade.posted_at is None and grade.post_error, "the first post should have failed"
        assert gradebook.process_sync({"grade_id": grade.id}) == gradebook.POSTED   # the worker's retry
        grade = db.session.get(Grade, grade.id)
        assert grade.posted_at is not None and grade.post_error is None


def test_a_score_the_lms_took_after_the_timeout_is_not_posted_again(make_tool_server, make_peer, monkeypatch):
    tool, lms, teacher, listing = _set_up(make_tool_server, make_peer)
    monkeypatch.setenv("GRADELOOP_HTTP_TIMEOUT", "1")
    lms.fail_next(1, mode="slow", delay=2.0, services=("ags",), match="/scores")
    post_form(teacher, grade_page_for(teacher, listing, "Ada Student"), {"score": "5", "comment": COMMENT},
              action_contains="/essays/")
    # The sandbox LMS stores the slow post after its delay, whatever the tool's timeout did.
    wait_for(lambda: _graded_comments(lms) == [COMMENT], 15, what="the slow post stored by the LMS")
    _retry(tool)
    assert _graded_comments(lms) == [COMMENT]


def test_a_score_the_lms_did_not_take_is_posted_again(make_tool_server, make_peer):
    tool, lms, teacher, listing = _set_up(make_tool_server, make_peer)
    lms.fail_next(1, status=503, services=("ags",), match="/scores")
    post_form(teacher, grade_page_for(teacher, listing, "Ada Student"), {"score": "5", "comment": COMMENT},
              action_contains="/essays/")
    _retry(tool)
    assert _graded_comments(lms) == [COMMENT]
