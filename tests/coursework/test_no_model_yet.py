"""Automatic feedback chosen before a course model serves the assignment: the settings say that
every essay waits for the teacher until then (and how many more graded essays the first model
needs), and the LMS gradebook shows each hand-in as waiting for a person (`PendingManual`), not as
`Pending`, which tells the LMS a grade is on its way without anyone's help."""
from lti_app.extensions import db
from lti_app.models import Assignment, FeedbackMode
from tests.coursework.flows import (create_by_deep_link, grade_page_for, open_assignment, post_form, serve_a_model,
                                    submit_essay)

ESSAY = "A four-day week would give students time to rest.\n\nIt would also save energy."
SETTINGS = {"min_graded": "30", "retrain_every": "20", "confidence_threshold": "0.6"}


def _one_graded_essay(peer, tool_server):
    item = create_by_deep_link(peer, tool_server)
    submit_essay(peer, tool_server, item["resource_link_id"], "student-1", ESSAY, name="Ada Student")
    teacher, listing = open_assignment(peer, tool_server, role="Instructor", user_id="teacher-1",
                                       resource_link_id=item["resource_link_id"])
    post_form(teacher, grade_page_for(teacher, listing, "Ada Student"), {"score": "4", "comment": "Clear."},
              action_contains="/essays/")
    with tool_server.app.app_context():
        assignment_id = db.session.scalar(db.select(Assignment.id))
    return item, teacher, f"{tool_server.url}/coursework/a/{assignment_id}/settings"


def test_choosing_automatic_feedback_before_a_model_says_every_essay_waits_for_the_teacher(peer, tool_server):
    item, teacher, url = _one_graded_essay(peer, tool_server)
    page = teacher.get(url, timeout=30)
    assert "There is no course model yet" in page.text and "29 more graded essays" in page.text

    for mode in ("auto", "review"):
        saved = post_form(teacher, page, {**SETTINGS, "feedback_mode": mode}, action_contains="/settings")
        assert saved.status_code == 200
        assert "Settings saved, but there is no course model yet" in saved.text
        assert "29 more graded essays" in saved.text and "every essay waits for you" in saved.text
    with tool_server.app.app_context():
        assert db.session.scalar(db.select(Assignment)).feedback_mode == FeedbackMode.REVIEW

    # A higher minimum of the assignment's own counts, as on the dashboard.
    saved = post_form(teacher, page, {**SETTINGS, "feedback_mode": "auto", "min_graded": "40"},
                      action_contains="/settings")
    assert "39 more graded essays" in saved.text

    off = post_form(teacher, page, {**SETTINGS, "feedback_mode": "off"}, action_contains="/settings")
    assert "Settings saved." in off.text and "Settings saved, but" not in off.text


def test_enough_grades_but_every_version_rejected_says_so_not_that_training_can_start(peer, tool_server,
                                                                                    monkeypatch):
    from lti_app.coursework.settings import no_model_words
    from lti_app.models import ModelVersion
    from worker.handlers import training

    _one_graded_essay(peer, tool_server)
    monkeypatch.setattr(training, "min_graded", lambda assignment: 1)   # the one grade is enough here
    with tool_server.app.app_context():
        assignment = db.session.scalar(db.select(Assignment))
        assert "its training can start" in no_model_words(assignment)
        db.session.add(ModelVersion(assignment_id=assignment.id, version=1, status="rejected", approach="frozen-ridge",
                                    path="v1", n_train=1))
        db.session.commit()
        words = no_model_words(assignment)
    assert "no trained version has passed the quality checks yet" in words and "can start" not in words


def test_with_a_model_serving_the_settings_say_nothing_of_waiting(peer, tool_server):
    item, teacher, url = _one_graded_essay(peer, tool_server)
    serve_a_model(tool_server)
    page = teacher.get(url, timeout=30)
    assert "no course model yet" not in page.text
    saved = post_form(teacher, page, {**SETTINGS, "feedback_mode": "auto"}, action_contains="/settings")
    assert "Settings saved." in saved.text and "no course model yet" not in saved.text


def test_a_hand_in_no_model_will_score_shows_in_the_lms_as_waiting_for_the_teacher(peer, tool_server):
    item = create_by_deep_link(peer, tool_server)
    submit_essay(peer, tool_server, item["resource_link_id"], "student-1", ESSAY)
    [score] = peer.scores(item["line_item_id"])
    assert (score["activityProgress"], score["gradingProgress"]) == ("Submitted", "PendingManual")
    assert "scoreGiven" not in score


def test_a_hand_in_a_model_will_score_shows_as_pending_unless_feedback_is_off(peer, tool_server):
    item = create_by_deep_link(peer, tool_server)
    serve_a_model(tool_server)
    submit_essay(peer, tool_server, item["resource_link_id"], "student-1", ESSAY)
    assert [s["gradingProgress"] for s in peer.scores(item["line_item_id"])] == ["Pending"]

    with tool_server.app.app_context():
        db.session.scalar(db.select(Assignment)).feedback_mode = FeedbackMode.OFF
        db.session.commit()
    submit_essay(peer, tool_server, item["resource_link_id"], "student-2", ESSAY)
    assert [(s["userId"], s["gradingProgress"]) for s in peer.scores(item["line_item_id"])] == [
        ("student-1", "Pending"), ("student-2", "PendingManual")]
