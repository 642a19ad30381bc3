"""Auto-feedback end to end, all real: students hand in through the LMS peer, the `gradeloop worker`
subprocess scores with the trained course model and composes the feedback, and the LMS gradebook
(the peer's AGS over HTTP) gets the score and comment, at once in auto-release mode, only after
the teacher's approval in review mode (where an edit becomes the teacher's own grade)."""
from __future__ import annotations

import pytest

from lti_app.demo import graded_rows
from lti_app.extensions import db
from lti_app.models import AiProposal, Grade, GradeSource, OutboxEvent, Submission, User
from tests.conftest import SHARED_DATA
from tests.coursework.flows import open_assignment, post_form, submit_essay
from tests.e2e.conftest import N_GRADED, _link
from tests.worker.conftest import wait_for

pytestmark = pytest.mark.slow   # trains a real course model (once per stack, module fixture)

DEADLINE = 60   # seconds: generous for a loaded 2-core CI machine; the benchmark measures the real figure


def _essay(i: int) -> str:
    """Real essays of the same prompt the model never saw (after the imported ones)."""
    return graded_rows(1, data_dir=SHARED_DATA, skip=N_GRADED + i)[0]["text"]


def _teacher(c):
    return open_assignment(c.peer, c.tool, role="Instructor", user_id="teacher-1",
                           resource_link_id=c.item["resource_link_id"])


def _settings(c, **values):
    """Save the assignment's settings. The blind check is off unless asked for: these tests follow
    each proposal through its review page (the check has its own tests: tests/review, tests/browser)."""
    values = {"blind_check": "", **values}
    teacher, listing = _teacher(c)
    page = teacher.get(_link(listing, "/settings"), timeout=30)
    saved = post_form(teacher, page, {k: str(v) for k, v in values.items()}, action_contains="/settings")
    assert saved.status_code == 200 and "Settings saved" in saved.text, saved.text[:800]


def _scores_for(c, user_id: str) -> list[dict]:
    return [s for s in c.peer.scores(c.item["line_item_id"]) if s.get("userId") == user_id]


def _graded_score(c, user_id: str) -> dict | None:
    graded = [s for s in _scores_for(c, user_id) if s.get("gradingProgress") == "FullyGraded"]
    return graded[-1] if graded else None


def _submission(c, user_id: str) -> Submission | None:
    user = db.session.scalar(db.select(User).filter_by(sub=user_id))
    return db.session.scalar(db.select(Submission).filter_by(user_id=user.id)) if user else None


def _proposal(c, user_id: str) -> AiProposal | None:
    db.session.expire_all()
    sub = _submission(c, user_id)
    return db.session.scalar(db.select(AiProposal).filter_by(submission_id=sub.id)) if sub else None


def _student_page(c, user_id: str):
    _, page = open_assignment(c.peer, c.tool, role="Learner", user_id=user_id,
                              resource_link_id=c.item["resource_link_id"])
    return page


def test_auto_release_posts_score_and_feedback_to_the_gradebook(live_course):
    c = live_course
    _settings(c, feedback_mode="auto", confidence_threshold=0, min_graded=30, retrain_every=20,
              show_ai_label="on", allow_resubmit="on")
    submit_essay(c.peer, c.tool, c.item["resource_link_id"], "student-1", _essay(0), name="Sam Auto")

    posted = wait_for(lambda: _graded_score(c, "student-1"), DEADLINE,
                      what=f"auto-released score in the LMS gradebook; worker log:\n{c.worker_log()}")
    with c.tool.app.app_context():
        proposal = _proposal(c, "student-1")

        def sent():   # the worker records `posted_at` only once the LMS has answered the post
            db.session.expire_all()
            row = db.session.scalar(db.select(Grade).filter_by(submission_id=proposal.submission_id))
            return row if row.posted_at is not None else None
        grade = wait_for(sent, 30, what="the grade marked as in the LMS")
        assert proposal.status == "released" and grade.source == GradeSource.AI_AUTO
        assert not grade.is_training_example, "an auto-released grade must never train the model"
        assert grade.comment and grade.comment == proposal.feedback
        assert 1 <= grade.score <= 6
    # The LMS shows the comment under the student page's badge (show_ai_label is on).
    label = "AI-assisted feedback, not yet reviewed by your teacher"
    assert posted["scoreGiven"] == grade.score and posted["comment"] == f"{label}.\n\n{grade.comment}"
    assert posted["activityProgress"] == "Completed"

    page = _student_page(c, "student-1")
    assert f'<span id="score">{grade.score:g}</span>' in page.text
    assert f'<span class="badge" id="ai-label">{label}</span>' in page.text, "not reviewed by anyone"
    first_sentence = grade.comment.split("\n")[0][:40]
    assert first_sentence.replace("'", "&#39;").replace('"', "&#34;") in page.text


def test_auto_release_below_the_threshold_waits_for_the_teacher(live_course):
    c = live_course
    _settings(c, feedback_mode="auto", confidence_threshold=1, min_graded=30, retrain_every=20,
              show_ai_label="on", allow_resubmit="on")
    submit_essay(c.peer, c.tool, c.item["resource_link_id"], "student-2", _essay(1), name="Kim Unsure")

    wait_for(lambda: any(s.get("gradingProgress") == "PendingManual" for s in _scores_for(c, "student-2")),
             DEADLINE, what=f"PendingManual in the gradebook; worker log:\n{c.worker_log()}")
    with c.tool.app.app_context():
        proposal = _proposal(c, "student-2")
        assert proposal.status == "pending" and proposal.confidence < 1.0 and proposal.feedback
        assert db.session.scalar(db.select(Grade).filter_by(submission_id=proposal.submission_id)) is None
    assert _graded_score(c, "student-2") is None
    assert "Waiting for grading" in _student_page(c, "student-2").text


def test_an_essay_unlike_the_graded_ones_waits_even_at_threshold_0(live_course):
    """Keyboard mash, or a real essay written for another assignment (the Electoral College, handed
    in to the Face on Mars), must not be auto-released with a confident score (worker.ml.envelope)."""
    from worker.ml.corpora import load_prompt

    c = live_course
    _settings(c, feedback_mode="auto", confidence_threshold=0, min_graded=30, retrain_every=20,
              show_ai_label="on", allow_resubmit="on")
    mash = " ".join(("asdf", "jkl", "qwer", "zxcvb", "fghj")[i % 5] * (1 + i % 3) for i in range(300))
    elsewhere = load_prompt(SHARED_DATA / "persuade", "3", splits=("train", "test")).splits["test"].texts[0]
    submit_essay(c.peer, c.tool, c.item["resource_link_id"], "student-5", mash, name="Lee Odd")
    submit_essay(c.peer, c.tool, c.item["resource_link_id"], "student-6", elsewhere, name="Sam Elsewhere")

    for user in ("student-5", "student-6"):
        wait_for(lambda: any(s.get("gradingProgress") == "PendingManual" for s in _scores_for(c, user)),
                 DEADLINE, what=f"{user} PendingManual in the gradebook; worker log:\n{c.worker_log()}")
        with c.tool.app.app_context():
            proposal = _proposal(c, user)
            assert proposal.status == "pending" and proposal.confidence == 0.0 and proposal.unusual, proposal.unusual
        assert _graded_score(c, user) is None
    with c.tool.app.app_context():
        assert any("written for another assignment" in r for r in _proposal(c, "student-6").unusual)


def _review_form(c, user_id: str, name: str):
    """Teacher: dashboard -> review queue -> this student's proposal page."""
    teacher, listing = _teacher(c)
    dashboard = teacher.get(_link(listing, "/dashboard/"), timeout=30)
    assert dashboard.status_code == 200 and "Quality report" in dashboard.text, dashboard.text[:800]
    queue = teacher.get(_link(dashboard, "/review/"), timeout=30)
    assert name in queue.text, queue.text[:1500]
    with c.tool.app.app_context():
        proposal_id = _proposal(c, user_id).id
    page = teacher.get(_link(queue, f"/p/{proposal_id}"), timeout=30)
    assert page.status_code == 200 and "AI proposal" in page.text
    return teacher, page, proposal_id


def test_review_mode_releases_only_after_the_teacher_decides(live_course):
    c = live_course
    _settings(c, feedback_mode="review", confidence_threshold=0, min_graded=30, retrain_every=20,
              show_ai_label="on", allow_resubmit="on")
    link = c.item["resource_link_id"]
    submit_essay(c.peer, c.tool, link, "student-3", _essay(2), name="Lee Edited")
    submit_essay(c.peer, c.tool, link, "student-4", _essay(3), name="Max Approved")
    for user in ("student-3", "student-4"):
        wait_for(lambda: any(s.get("gradingProgress") == "PendingManual" for s in _scores_for(c, user)),
                 DEADLINE, what=f"{user} PendingManual; worker log:\n{c.worker_log()}")
        assert _graded_score(c, user) is None, "review mode must not release anything by itself"

    # An edit: the teacher's own grade, a training example, and what the LMS shows.
    teacher, page, proposal_id = _review_form(c, "student-3", "Lee Edited")
    with c.tool.app.app_context():
        proposed = db.session.get(AiProposal, proposal_id)
        new_score = proposed.score - 1 if proposed.score > 1 else proposed.score + 1
        ai_feedback = proposed.feedback
    # The AI's feedback kept, with a sentence added: still AI-assisted (a rewrite would be the
    # teacher's own, unlabelled: tests/coursework/test_ai_label.py).
    comment = f"{ai_feedback}\nExplain how the 2001 photos prove the Face is a mesa."
    done = post_form(teacher, page, {"action": "edit", "score": str(new_score), "comment": comment},
                     action_contains=f"/p/{proposal_id}")
    assert done.status_code == 200 and "saved with your changes" in done.text, done.text[:800]
    posted = wait_for(lambda: _graded_score(c, "student-3"), DEADLINE, what="edited grade in the gradebook")
    assert posted["scoreGiven"] == new_score
    assert posted["comment"] == f"AI-assisted feedback, reviewed by your teacher.\n\n{comment}"
    with c.tool.app.app_context():
        grade = db.session.scalar(db.select(Grade).filter_by(submission_id=_proposal(c, "student-3").submission_id))
        assert grade.source == GradeSource.AI_EDITED and grade.is_training_example
        assert _proposal(c, "student-3").status == "edited"
        created = [e.payload["payload"]["grade_id"] for e in db.session.scalars(
            db.select(OutboxEvent).where(OutboxEvent.type == "grade.created"))]
        assert grade.id in created

    # Approval unchanged: the AI's score and feedback, now teacher-approved.
    teacher, page, proposal_id = _review_form(c, "student-4", "Max Approved")
    done = post_form(teacher, page, {"action": "approve"}, action_contains=f"/p/{proposal_id}")
    assert done.status_code == 200 and "approved" in done.text, done.text[:800]
    posted = wait_for(lambda: _graded_score(c, "student-4"), DEADLINE, what="approved grade in the gradebook")
    with c.tool.app.app_context():
        proposal = db.session.get(AiProposal, proposal_id)
        grade = db.session.scalar(db.select(Grade).filter_by(submission_id=proposal.submission_id))
        assert proposal.status == "approved" and grade.source == GradeSource.AI_APPROVED
        assert (grade.score, grade.comment) == (proposal.score, proposal.feedback)
    assert posted["scoreGiven"] == proposal.score
    assert posted["comment"] == f"AI-assisted feedback, reviewed by your teacher.\n\n{proposal.feedback}"
    page = _student_page(c, "student-4")
    assert f'<span id="score">{proposal.score:g}</span>' in page.text
    assert "AI-assisted feedback, reviewed by your teacher" in page.text


def test_a_resubmitted_essay_gets_a_fresh_proposal(live_course):
    c = live_course
    _settings(c, feedback_mode="review", confidence_threshold=0, min_graded=30, retrain_every=20,
              show_ai_label="on", allow_resubmit="on")
    link = c.item["resource_link_id"]
    submit_essay(c.peer, c.tool, link, "student-5", _essay(4), name="Ray Twice")
    with c.tool.app.app_context():
        first = wait_for(lambda: _proposal(c, "student-5"), DEADLINE, what="first proposal").id
    submit_essay(c.peer, c.tool, link, "student-5", _essay(5), name="Ray Twice")

    def fresh():
        db.session.expire_all()
        sub = _submission(c, "student-5")
        return db.session.scalar(db.select(AiProposal).filter(AiProposal.submission_id == sub.id,
                                                              AiProposal.id != first))
    with c.tool.app.app_context():
        wait_for(fresh, DEADLINE, what="a proposal for the new version")
