"""End to end through the peer LMS over HTTP: Deep Linking creates the line item, a student's
hand-in shows as Submitted/PendingManual (no model scores it yet), teacher grades (and re-grades)
land in the gradebook."""
import pytest

from lti_app.extensions import db
from lti_app.models import Assignment, Grade, GradeSource, OutboxEvent, Submission, SubmissionStatus
from tests.coursework.flows import (COURSE, create_by_deep_link, grade_page_for, open_assignment, post_form,
                                    serve_a_model, submit_essay)

ESSAY = "A four-day week would give students time to rest.\n\nIt would also save energy."


def test_deep_link_creates_line_item_and_link_maps_to_assignment(peer, tool_server):
    item = create_by_deep_link(peer, tool_server, title="Four-day week", score_max="6", traits="cohesion 1-5")
    assert item["type"] == "ltiResourceLink" and item["custom"]["gradeloop_assignment"].startswith("gl-")
    [line_item] = peer.line_items(COURSE)
    assert line_item["scoreMaximum"] == 6 and line_item["label"] == "Four-day week"
    assert line_item["resourceId"] == item["custom"]["gradeloop_assignment"]
    assert line_item["tag"] == "gradeloop-essay" and line_item["resourceLinkId"] == item["resource_link_id"]
    with tool_server.app.app_context():
        assignment = db.session.scalar(db.select(Assignment))
        assert assignment.title == "Four-day week" and assignment.traits == [{"name": "cohesion", "min": 1, "max": 5}]
        assert assignment.resource_link_id is None   # linked at the first launch of the placement
    browser, page = open_assignment(peer, tool_server, role="Instructor", user_id="teacher-1",
                                    resource_link_id=item["resource_link_id"])
    assert "Four-day week" in page.text and "/coursework/a/" in page.url
    with tool_server.app.app_context():
        assignment = db.session.scalar(db.select(Assignment))
        assert assignment.resource_link_id is not None and assignment.lineitem_url == line_item["id"]


def test_student_submission_shows_as_submitted_pending(peer, tool_server):
    item = create_by_deep_link(peer, tool_server)
    browser, page = submit_essay(peer, tool_server, item["resource_link_id"], "student-1", ESSAY)
    assert "Waiting for grading" in page.text
    [score] = peer.scores(item["line_item_id"])
    assert score["userId"] == "student-1" and score["activityProgress"] == "Submitted"
    assert score["gradingProgress"] == "PendingManual" and "scoreGiven" not in score
    with tool_server.app.app_context():
        submission = db.session.scalar(db.select(Submission))
        assert submission.text == ESSAY and submission.status == SubmissionStatus.SUBMITTED
        types = sorted(e.type for e in db.session.scalars(db.select(OutboxEvent)))
        assert types == ["gradebook.sync", "submission.created"]   # the worker's durable copy


def test_teacher_grade_and_regrade_reach_gradebook(peer, tool_server):
    item = create_by_deep_link(peer, tool_server, traits="cohesion 1-5")
    submit_essay(peer, tool_server, item["resource_link_id"], "student-1", ESSAY, name="Ada Student")
    teacher, listing = open_assignment(peer, tool_server, role="Instructor", user_id="teacher-1",
                                       resource_link_id=item["resource_link_id"])
    grade_page = grade_page_for(teacher, listing, "Ada Student")
    assert ESSAY.split("\n")[0] in grade_page.text
    saved = post_form(teacher, grade_page, {"score": "5", "trait:cohesion": "4", "comment": "Clear argument."},
                      action_contains="/essays/")
    assert saved.status_code == 200 and "sent to the LMS gradebook" in saved.text
    last = peer.scores(item["line_item_id"])[-1]
    assert (last["scoreGiven"], last["scoreMaximum"], last["comment"]) == (5, 6, "Clear argument.")
    assert last["gradingProgress"] == "FullyGraded" and last["activityProgress"] == "Completed"
    [result] = peer.results(item["line_item_id"], "student-1")
    assert result["resultScore"] == 5 and result["comment"] == "Clear argument."

    regraded = post_form(teacher, saved, {"score": "3", "comment": "Second look: thin evidence."},
                         action_contains="/essays/")
    assert "sent to the LMS gradebook" in regraded.text
    [result] = peer.results(item["line_item_id"], "student-1")
    assert result["resultScore"] == 3 and result["comment"] == "Second look: thin evidence."
    with tool_server.app.app_context():
        grades = db.session.scalars(db.select(Grade).order_by(Grade.id)).all()
        assert [g.score for g in grades] == [5, 3] and all(g.posted_at for g in grades)
        assert grades[0].trait_scores == {"cohesion": 4} and grades[0].score_max == 6
        types = [e.type for e in db.session.scalars(db.select(OutboxEvent).order_by(OutboxEvent.id))]
        assert types.count("grade.created") == 2 and types.count("gradebook.sync") == 3

    student, page = open_assignment(peer, tool_server, role="Learner", user_id="student-1",
                                    resource_link_id=item["resource_link_id"])
    assert 'id="score">3<' in page.text and "Second look: thin evidence." in page.text


def test_forged_cross_site_post_over_http_is_refused(peer, tool_server):
    """A page on another site auto-posting to Gradeloop: the browser sends the teacher's session
    cookie, but the form cannot carry the per-launch CSRF token."""
    item = create_by_deep_link(peer, tool_server)
    submit_essay(peer, tool_server, item["resource_link_id"], "student-1", ESSAY, name="Ada Student")
    teacher, listing = open_assignment(peer, tool_server, role="Instructor", user_id="teacher-1",
                                       resource_link_id=item["resource_link_id"])
    grade_url = grade_page_for(teacher, listing, "Ada Student").url.split("?")[0]
    assert teacher.cookies.get("gradeloop_session")
    forged = teacher.post(grade_url, data={"score": "1", "comment": "forged"}, timeout=30,
                          headers={"Origin": "https://evil.example", "Referer": "https://evil.example/x"})
    assert forged.status_code == 403 and "Nothing was saved: your session has ended" in forged.text
    with tool_server.app.app_context():
        assert db.session.scalar(db.select(db.func.count(Grade.id))) == 0
    assert all(s.get("scoreGiven") is None for s in peer.scores(item["line_item_id"]))


def test_canvas_gets_the_submission_extension(peer, tool_server):
    with tool_server.app.app_context():
        from lti_app.models import Platform

        db.session.scalar(db.select(Platform)).product_family = "canvas"
        db.session.commit()
    item = create_by_deep_link(peer, tool_server)
    submit_essay(peer, tool_server, item["resource_link_id"], "student-1", ESSAY)
    [score] = peer.scores(item["line_item_id"])
    extension = score["https://canvas.instructure.com/lti/submission"]
    assert extension["new_submission"] is True and extension["submission_type"] == "online_text_entry"
    assert extension["submission_data"] == ESSAY and extension["submitted_at"].endswith("Z")


@pytest.mark.postgres
def test_hand_in_and_grade_on_postgresql(make_tool_server, make_peer, own_postgres):
    tool = make_tool_server(database_url=own_postgres)
    lms = make_peer(tool)
    item = create_by_deep_link(lms, tool)
    submit_essay(lms, tool, item["resource_link_id"], "student-pg", ESSAY, name="Pat Postgres")
    teacher, listing = open_assignment(lms, tool, role="Instructor", user_id="teacher-1",
                                       resource_link_id=item["resource_link_id"])
    saved = post_form(teacher, grade_page_for(teacher, listing, "Pat Postgres"), {"score": "6", "comment": "PG"},
                      action_contains="/essays/")
    assert "sent to the LMS gradebook" in saved.text
    [result] = lms.results(item["line_item_id"], "student-pg")
    assert result["resultScore"] == 6


def _returned(peer, tool_server, comment="Give evidence."):
    """A graded (3) essay returned for revision; (item, teacher browser, the page after the return)."""
    item = create_by_deep_link(peer, tool_server)
    submit_essay(peer, tool_server, item["resource_link_id"], "student-1", ESSAY, name="Ada Student")
    teacher, listing = open_assignment(peer, tool_server, role="Instructor", user_id="teacher-1",
                                       resource_link_id=item["resource_link_id"])
    saved = post_form(teacher, grade_page_for(teacher, listing, "Ada Student"),
                      {"score": "3", "comment": comment}, action_contains="/essays/")
    returned = post_form(teacher, saved, action_contains="/return")
    assert returned.status_code == 200 and "Returned for revision" in returned.text
    return item, teacher, returned


def test_returned_essay_keeps_its_lms_grade_until_the_revision_is_graded(peer, tool_server):
    """A score without scoreGiven clears the LMS's grade (AGS), so the return and the revision's
    hand-in post the grade again, unchanged, with a note: the student reads in the gradebook that
    the essay came back, and keeps the first grade until the teacher grades the new version."""
    item, teacher, _ = _returned(peer, tool_server)
    note = peer.scores(item["line_item_id"])[-1]
    assert (note["scoreGiven"], note["gradingProgress"], note["activityProgress"]) == (3, "FullyGraded", "InProgress")
    assert note["comment"].startswith("Returned for revision") and note["comment"].endswith("Give evidence.")
    _, page = submit_essay(peer, tool_server, item["resource_link_id"], "student-1",
                           ESSAY + "\n\nA survey of 200 students agreed.")
    assert "Feedback on your previous version" in page.text and "Give evidence." in page.text
    revised = peer.scores(item["line_item_id"])[-1]
    assert (revised["scoreGiven"], revised["gradingProgress"], revised["activityProgress"]) == (3, "FullyGraded", "Submitted")
    assert revised["comment"].startswith("New version handed in")
    [result] = peer.results(item["line_item_id"], "student-1")
    assert result["resultScore"] == 3
    _, listing = open_assignment(peer, tool_server, role="Instructor", user_id="teacher-1",
                                 resource_link_id=item["resource_link_id"], browser=teacher)
    assert 'data-status="Revised"' in listing.text
    regraded = post_form(teacher, grade_page_for(teacher, listing, "Ada Student"),
                         {"score": "5", "comment": "Now convincing."}, action_contains="/essays/")
    assert "sent to the LMS gradebook" in regraded.text
    [result] = peer.results(item["line_item_id"], "student-1")
    assert (result["resultScore"], result["comment"]) == (5, "Now convincing.")


def test_a_return_taken_back_is_told_once_and_canvas_gets_the_note_alone(peer, tool_server):
    """Taking the return back posts the grade as final; a redelivered event posts nothing more.
    Canvas adds each score's comment to the submission's comments, so its note comes alone."""
    from lti_app.lms.gradebook import SKIPPED, process_sync
    from lti_app.models import Platform

    with tool_server.app.app_context():
        db.session.scalar(db.select(Platform)).product_family = "canvas"
        db.session.commit()
    item, teacher, returned = _returned(peer, tool_server)
    assert peer.scores(item["line_item_id"])[-1]["comment"] == (
        "Returned for revision: open the assignment, read the feedback and hand in a new version.")
    taken_back = post_form(teacher, returned, {"undo": "1"}, action_contains="/return")
    assert "Return taken back" in taken_back.text
    scores = peer.scores(item["line_item_id"])
    assert (scores[-1]["scoreGiven"], scores[-1]["activityProgress"]) == (3, "Completed")
    assert scores[-1]["comment"] == "The return for revision was taken back: this grade stands."
    with tool_server.app.app_context():
        submission_id = db.session.scalar(db.select(Submission.id))
        assert process_sync({"submission_id": submission_id, "revision": True}) == SKIPPED
    assert len(peer.scores(item["line_item_id"])) == len(scores)
    [result] = peer.results(item["line_item_id"], "student-1")
    assert result["resultScore"] == 3


def test_a_note_the_lms_did_not_take_is_posted_later_and_never_makes_a_grade_look_old(peer, tool_server):
    """The LMS is down for the return's note: the return is still made, and the worker's copy of
    the event posts the note later. A grade saved afterwards whose creation time is not newer than
    the note's (another machine's clock) is posted just after the note, since an LMS refuses a
    score older than the one it holds."""
    from datetime import timedelta

    from lti_app.lms.gradebook import POSTED, process_sync, push_grade

    item = create_by_deep_link(peer, tool_server)
    submit_essay(peer, tool_server, item["resource_link_id"], "student-1", ESSAY, name="Ada Student")
    teacher, listing = open_assignment(peer, tool_server, role="Instructor", user_id="teacher-1",
                                       resource_link_id=item["resource_link_id"])
    saved = post_form(teacher, grade_page_for(teacher, listing, "Ada Student"),
                      {"score": "3", "comment": "Give evidence."}, action_contains="/essays/")
    posted = len(peer.scores(item["line_item_id"]))
    peer.fail_next(1, status=503)
    assert "Returned for revision" in post_form(teacher, saved, action_contains="/return").text
    assert len(peer.scores(item["line_item_id"])) == posted
    with tool_server.app.app_context():
        submission = db.session.scalar(db.select(Submission))
        assert submission.status == SubmissionStatus.RETURNED and submission.lms_notice is None
        assert process_sync({"submission_id": submission.id, "revision": True}) == POSTED   # the worker
        submission = db.session.scalar(db.select(Submission))
        noted_at = submission.lms_notice_at
        behind = Grade(submission_id=submission.id, score=4, score_min=1, score_max=6, comment="Better.",
                       source=GradeSource.TEACHER, created_at=noted_at - timedelta(milliseconds=1))
        db.session.add(behind)
        db.session.commit()
        assert push_grade(behind.id) == POSTED
    last = peer.scores(item["line_item_id"])[-1]
    assert last["scoreGiven"] == 4 and last["timestamp"] > peer.scores(item["line_item_id"])[-2]["timestamp"]


def test_taken_back_is_said_only_of_the_grade_whose_return_the_lms_got():
    """A late return event after the revision was graded (status GRADED, the last note still about
    the first grade) says nothing: "taken back" would be false beside the new grade."""
    from lti_app.lms.revision_notice import RETURNED, TAKEN_BACK, wanted_state

    first, second = Grade(id=1), Grade(id=2)
    graded = Submission(status=SubmissionStatus.GRADED, lms_notice=f"{RETURNED}:1")
    assert wanted_state(graded, first) == TAKEN_BACK
    assert wanted_state(graded, second) is None
    assert wanted_state(Submission(status=SubmissionStatus.GRADED, lms_notice=None), first) is None


def test_the_worker_does_not_tell_the_lms_of_a_hand_in_twice(peer, tool_server):
    """The web request posts the hand-in at once and the worker's durable event follows: the
    LMS hears of each version once (Canvas makes every `new_submission` post an attempt)."""
    from lti_app.lms.gradebook import process_sync

    item = create_by_deep_link(peer, tool_server)
    serve_a_model(tool_server)   # the hand-in is Pending: a model will score it
    submit_essay(peer, tool_server, item["resource_link_id"], "student-1", ESSAY)
    with tool_server.app.app_context():
        events = [e.payload["payload"] for e in db.session.scalars(
            db.select(OutboxEvent).filter_by(type="gradebook.sync"))]
        assert [process_sync(payload) for payload in events] == ["skipped"]
        # A change of progress is a post of its own: the AI's proposal now waits for the teacher.
        assert process_sync({**events[0], "grading_progress": "PendingManual"}) == "posted"
    assert [s["gradingProgress"] for s in peer.scores(item["line_item_id"])] == ["Pending", "PendingManual"]
    submit_essay(peer, tool_server, item["resource_link_id"], "student-1", ESSAY + "\n\nA new version.")
    assert [s["gradingProgress"] for s in peer.scores(item["line_item_id"])] == ["Pending", "PendingManual", "Pending"]


def test_a_grade_claimed_by_another_attempt_is_posted_once(peer, tool_server):
    """The web request and the worker can reach one unposted grade at the same moment (a bulk
    approval, "send again" beside a worker retry). The one that finds it claimed does not post:
    the worker retries later, the web request counts it as sent; a claim left by a process
    that died mid-post is taken over once stale."""
    from datetime import timedelta

    from lti_app.coursework import lms_sync
    from lti_app.lms import post_claims
    from lti_app.lms.errors import LmsTemporaryError
    from lti_app.lms.gradebook import process_sync
    from lti_app.models.base import utcnow

    item = create_by_deep_link(peer, tool_server)
    submit_essay(peer, tool_server, item["resource_link_id"], "student-1", ESSAY)
    before = len(peer.scores(item["line_item_id"]))
    with tool_server.app.app_context():
        submission = db.session.scalar(db.select(Submission))
        grade = Grade(submission_id=submission.id, score=4, comment="Good.", source=GradeSource.TEACHER,
                      score_min=1, score_max=6, post_claimed_at=utcnow())
        db.session.add(grade)
        db.session.commit()
        grade_id = grade.id
        with pytest.raises(LmsTemporaryError, match="another attempt"):
            process_sync({"grade_id": grade_id})
        assert lms_sync.push_grades_now(submission.assignment_id, [grade_id]).sent == 1
        assert len(peer.scores(item["line_item_id"])) == before
        db.session.execute(db.update(Grade).values(
            post_claimed_at=utcnow() - post_claims.stale_after() - timedelta(seconds=1)))
        db.session.commit()
        assert process_sync({"grade_id": grade_id}) == "posted"
        assert process_sync({"grade_id": grade_id}) == "skipped"
        grade = db.session.get(Grade, grade_id)
        assert grade.posted_at is not None and grade.post_claimed_at is None
    assert [s.get("scoreGiven") for s in peer.scores(item["line_item_id"])][before:] == [4]


@pytest.mark.usefixtures("worker_beating")   # the worker tells the LMS later
def test_set_up_gives_the_teachers_lms_column_the_assignments_maximum(peer, tool_server):
    """A column the teacher made in the LMS first (a Moodle activity out of 100) gets the scale's
    highest score at set-up, as the form says, so a 4 of 6 does not read 66.67 of 100 there. An
    edit the LMS cannot take now is queued for the worker."""
    from lti_app.lms.gradebook import process_sync

    peer.add_resource_link(COURSE, "rl-hand", title="Essay 3", line_item={"scoreMaximum": 100, "label": "Essay 3"})
    teacher, page = open_assignment(peer, tool_server, role="Instructor", user_id="teacher-1", resource_link_id="rl-hand")
    done = post_form(teacher, page, {"title": "Essay 3", "prompt": "Argue.", "score_min": "1", "score_max": "6"})
    assert "The assignment is ready." in done.text
    [column] = peer.line_items(COURSE)
    assert (column["scoreMaximum"], column["label"]) == (6, "Essay 3")

    with tool_server.app.app_context():
        assignment_id = db.session.scalar(db.select(Assignment.id))
    settings = teacher.get(f"{tool_server.url}/coursework/a/{assignment_id}/edit", timeout=30)
    peer.fail_next(1, status=503)
    edited = post_form(teacher, settings, {"title": "Essay 3 (final)", "score_min": "1", "score_max": "4"},
                       action_contains="/edit")
    assert "keeps its old name and maximum for now" in edited.text and "as soon as the LMS answers" in edited.text
    assert peer.line_items(COURSE)[0]["scoreMaximum"] == 6
    with tool_server.app.app_context():
        [queued] = [e.payload["payload"] for e in db.session.scalars(db.select(OutboxEvent).filter_by(type="gradebook.sync"))
                    if e.payload["payload"].get("line_item")]
        assert process_sync(queued) == "posted"
    [column] = peer.line_items(COURSE)
    assert (column["scoreMaximum"], column["label"]) == (4, "Essay 3 (final)")


def test_a_hand_in_the_lms_missed_goes_to_the_worker(peer, tool_server):
    """The web request's post fails: its claim is dropped, so the worker's event posts the hand-in
    (it would wait for ever, or skip it, behind a claim left in place)."""
    from lti_app.lms.gradebook import process_sync

    item = create_by_deep_link(peer, tool_server)
    peer.fail_next(1, status=503, match="POST")
    submit_essay(peer, tool_server, item["resource_link_id"], "student-1", ESSAY)
    assert peer.scores(item["line_item_id"]) == []
    with tool_server.app.app_context():
        [event] = [e.payload["payload"] for e in db.session.scalars(
            db.select(OutboxEvent).filter_by(type="gradebook.sync"))]
        submission = db.session.scalar(db.select(Submission))
        assert submission.lms_submit_claimed_at is None and submission.lms_submitted_at is None
        assert process_sync(event) == "posted"
    assert [s["gradingProgress"] for s in peer.scores(item["line_item_id"])] == ["PendingManual"]


def test_a_hand_in_another_attempt_is_telling_waits_and_a_dead_ones_claim_is_taken_over(peer, tool_server):
    """The worker's event for a hand-in the web request is posting right now must wait, not skip:
    should that post fail or its process die (a deploy), nobody else would tell the LMS. A claim
    older than `stale_after()` is a dead process's and is taken over."""
    from datetime import timedelta

    from lti_app.lms import post_claims
    from lti_app.lms.errors import LmsTemporaryError
    from lti_app.lms.gradebook import process_sync
    from lti_app.models.base import utcnow

    item = create_by_deep_link(peer, tool_server)
    peer.fail_next(1, status=503, match="POST")
    submit_essay(peer, tool_server, item["resource_link_id"], "student-1", ESSAY)
    with tool_server.app.app_context():
        payload = db.session.scalar(db.select(OutboxEvent).filter_by(type="gradebook.sync")).payload["payload"]
        db.session.execute(db.update(Submission).values(lms_submit_claimed_at=utcnow()))   # "being told"
        db.session.commit()
        with pytest.raises(LmsTemporaryError, match="another attempt"):
            process_sync(payload)
        db.session.execute(db.update(Submission).values(
            lms_submit_claimed_at=utcnow() - post_claims.stale_after() - timedelta(seconds=1)))
        db.session.commit()
        assert process_sync(payload) == "posted"
        assert process_sync(payload) == "skipped"
        submission = db.session.scalar(db.select(Submission))
        assert submission.lms_submit_claimed_at is None and submission.lms_submitted_at == submission.submitted_at
    assert [s["gradingProgress"] for s in peer.scores(item["line_item_id"])] == ["PendingManual"]
