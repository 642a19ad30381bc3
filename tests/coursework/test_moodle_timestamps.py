"""Moodle refuses (409) a score whose timestamp is not in a later whole second than the grade it
holds, and on an activity's own column it holds the time the grade arrived (scores.php). The
sandbox LMS plays Moodle here (`lms_rules`). A grade Moodle already took must count as sent, not
end as "Not sent" for good; a grade stamped after a revision note goes in the next second."""
import time
from datetime import datetime, timedelta, timezone

import pytest

from lti_app.extensions import db
from lti_app.lms.errors import LmsPermanentError
from lti_app.lms.gradebook import POSTED, process_sync, push_grade
from lti_app.models import Assignment, Grade, GradeSource, ResourceLink, Submission
from tests.coursework.flows import create_by_deep_link, grade_page_for, open_assignment, post_form, submit_essay

ESSAY = "A four-day week would give students time to rest.\n\nIt would also save energy."


def _graded(make_peer, tool_server, score="5", comment="Good.", pause=0.0):
    lms = make_peer(product_family="moodle")
    item = create_by_deep_link(lms, tool_server)
    submit_essay(lms, tool_server, item["resource_link_id"], "student-1", ESSAY, name="Ada Student")
    time.sleep(pause)
    teacher, listing = open_assignment(lms, tool_server, role="Instructor", user_id="teacher-1",
                                       resource_link_id=item["resource_link_id"])
    saved = post_form(teacher, grade_page_for(teacher, listing, "Ada Student"), {"score": score, "comment": comment},
                      action_contains="/essays/")
    return lms, item, teacher, saved


def _graded_posts(lms, item):
    return [s for s in lms.scores(item["line_item_id"]) if s["gradingProgress"] == "FullyGraded"]


def test_a_grade_moodle_took_but_whose_answer_was_lost_counts_as_sent(make_peer, tool_server):
    lms, item, _, saved = _graded(make_peer, tool_server)
    assert "sent to the LMS gradebook" in saved.text
    with tool_server.app.app_context():   # the process died between Moodle's answer and its commit
        grade = db.session.scalar(db.select(Grade))
        grade.posted_at, grade.post_claimed_at = None, datetime.now(timezone.utc) - timedelta(hours=1)
        db.session.commit()
        assert process_sync({"grade_id": grade.id}) == POSTED   # its claim is taken over: Moodle has it
        grade = db.session.get(Grade, grade.id)
        assert grade.posted_at is not None and grade.post_error is None
    assert len(_graded_posts(lms, item)) == 1


def test_a_grade_moodle_refuses_as_one_it_holds_counts_as_sent(make_peer, tool_server):
    """The same grade sent again with its own timestamp: Moodle refuses it (409, the same second)
    and holds this score and comment, so it is in the LMS, not "Not sent" for good. (The grade
    is made a second after the hand-in: one made in its second is sent just after it instead.)"""
    lms, item, _, _ = _graded(make_peer, tool_server, pause=1.1)
    with tool_server.app.app_context():
        grade = db.session.scalar(db.select(Grade))
        grade.posted_at = None
        db.session.commit()
        assert push_grade(grade.id) == POSTED
        assert db.session.get(Grade, grade.id).post_error is None
    assert len(_graded_posts(lms, item)) == 1


def test_a_grade_moodle_holds_a_later_hand_in_for_goes_just_after_it(make_peer, tool_server):
    """Moodle keeps its own clock's time for a post without a score: a grade created before the
    hand-in reached Moodle (a hand-in the worker told late, a clock behind Moodle's) is refused as
    older, then sent again in a later second."""
    lms = make_peer(product_family="moodle")
    item = create_by_deep_link(lms, tool_server)
    submit_essay(lms, tool_server, item["resource_link_id"], "student-1", ESSAY, name="Ada Student")
    with tool_server.app.app_context():
        submission = db.session.scalar(db.select(Submission))
        grade = Grade(submission_id=submission.id, score=4, score_min=1, score_max=6, comment="Better.",
                      source=GradeSource.TEACHER, created_at=datetime.now(timezone.utc) - timedelta(seconds=30))
        db.session.add(grade)
        db.session.commit()
        assert push_grade(grade.id) == POSTED
    [result] = lms.results(item["line_item_id"], "student-1")
    assert result["resultScore"] == pytest.approx(4) and result["comment"] == "Better."


def test_a_grade_changed_in_moodle_itself_is_not_overwritten_and_says_why(make_peer, tool_server):
    lms, item, _, _ = _graded(make_peer, tool_server)
    with tool_server.app.app_context():
        submission = db.session.scalar(db.select(Submission))
        first = db.session.scalar(db.select(Grade))
        later = Grade(submission_id=submission.id, score=3, score_min=1, score_max=6, comment="Redo.",
                      source=GradeSource.TEACHER, created_at=first.created_at + timedelta(seconds=5))
        db.session.add(later)
        db.session.commit()
        num = lms.state.resolve_line_item(item["line_item_id"])
        with lms.state.lock:   # a teacher set 2 of 6 in Moodle's gradebook, after both
            held = lms.state.results[(num, "student-1")]
            held.update(scoreGiven=2, comment="", _when=datetime.now(timezone.utc) + timedelta(minutes=5))
        with pytest.raises(LmsPermanentError) as refused:
            push_grade(later.id)
        assert "2 out of 6" in str(refused.value) and "changed in the LMS" in str(refused.value)
        assert db.session.get(Grade, later.id).posted_at is None
    assert lms.results(item["line_item_id"], "student-1")[0]["resultScore"] == pytest.approx(2 / 6 * 6)


def test_a_grade_stamped_after_a_note_goes_in_the_next_whole_second(make_peer, tool_server):
    lms, item, teacher, saved = _graded(make_peer, tool_server, score="3", comment="Give evidence.")
    post_form(teacher, saved, action_contains="/return")
    with tool_server.app.app_context():
        submission = db.session.scalar(db.select(Submission))
        assert submission.lms_notice.startswith("returned:")
        behind = Grade(submission_id=submission.id, score=4, score_min=1, score_max=6, comment="Better.",
                       source=GradeSource.TEACHER, created_at=submission.lms_notice_at - timedelta(milliseconds=1))
        db.session.add(behind)
        db.session.commit()
        note_at = submission.lms_notice_at
        assert push_grade(behind.id) == POSTED
    [grade_post] = [s for s in _graded_posts(lms, item) if s.get("comment") == "Better."]
    sent = datetime.fromisoformat(grade_post["timestamp"].replace("Z", "+00:00"))
    assert sent.microsecond == 0 and sent > note_at.replace(tzinfo=note_at.tzinfo or timezone.utc)
    # The note for the new grade (it is still returned) comes after the grade, not refused.
    assert _graded_posts(lms, item)[-1]["comment"].startswith("Returned for revision")


def test_grade_sync_only_reads_the_column_and_leaves_it_as_it_is(make_peer, tool_server):
    """Moodle's "grade sync only" grants lineitem.readonly, result.readonly and score; its token
    endpoint refuses a request for `lineitem` alone (invalid_scope)."""
    from lti_app.lms.gradebook import sync_line_item

    lms = make_peer(product_family="moodle")
    item = create_by_deep_link(lms, tool_server)
    lms.state.tool.scopes = tuple(s for s in lms.state.tool.scopes if not s.endswith("/scope/lineitem"))
    open_assignment(lms, tool_server, role="Instructor", user_id="teacher-1", resource_link_id=item["resource_link_id"])
    with tool_server.app.app_context():
        assignment = db.session.scalar(db.select(Assignment))
        link = db.session.get(ResourceLink, assignment.resource_link_id)
        assert "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem" not in link.ags_scopes
        assert sync_line_item(assignment.id) == POSTED   # title and maximum match already
        assignment.title = "Renamed essay"
        db.session.commit()
        with pytest.raises(LmsPermanentError) as refused:
            sync_line_item(assignment.id)
        assert str(refused.value) == ("Moodle does not let Gradeloop change this assignment's column in its "
                                      "gradebook, so the column keeps its old name. Rename it in Moodle to "
                                      "\u201cRenamed essay\u201d.")
    assert lms.line_items()[0]["label"] != "Renamed essay"
