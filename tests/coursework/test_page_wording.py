"""Pages say things in people's words: "Student" and "Teacher", not LTI role names; error pages
titled by what happened, not by a status number; an ended session and a refused launch tell the
reader what to do next; grades the AI released are marked as such wherever teachers see grades,
and students read whether their teacher reviewed them; counts agree with their nouns."""
from __future__ import annotations

import html
import re

import pytest
from flask import render_template

from lti_app.extensions import db
from lti_app.models import Grade, GradeSource, Role
from tests.coursework.helpers import login


def _title(page: str) -> str:
    return re.search(r"<title>(.*?)</title>", page, re.S).group(1).strip()


def _text(markup: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", markup)).split())


def _teacher(client, app, world, role=Role.INSTRUCTOR):
    return login(client, app, course_id=world.course_a, user_id=world.teacher_a if role == Role.INSTRUCTOR
                 else world.ta_a, role=role, platform_id=world.platform)


def _student(client, app, world):
    return login(client, app, course_id=world.course_a, user_id=world.student1_a, role=Role.LEARNER,
                 resource_link_id=world.link_a, platform_id=world.platform)


def _grades(app, world, *sources: GradeSource) -> None:
    """Grades on student 1's essay, oldest first; the last is the current one."""
    with app.app_context():
        for source in sources:
            db.session.add(Grade(submission_id=world.essay_a, score=3, comment="Clear.", source=source,
                                 score_min=1, score_max=6, grader_id=None if source == GradeSource.AI_AUTO
                                 else world.teacher_a))
            db.session.flush()
        db.session.commit()


@pytest.mark.parametrize("role, name", [(Role.INSTRUCTOR, "Teacher"), (Role.TA, "Teaching assistant"),
                                        (Role.LEARNER, "Student")])
def test_the_top_bar_names_the_role_in_plain_words(client, app, world, role, name):
    if role == Role.LEARNER:
        _student(client, app, world)
        page = client.get(f"/coursework/a/{world.assignment_a}/essay").get_data(as_text=True)
    else:
        _teacher(client, app, world, role)
        page = client.get(f"/coursework/a/{world.assignment_a}").get_data(as_text=True)
    assert re.search(r'<span class="who">(.*?)</span>', page).group(1) == name
    # ...beside whose session it is: a page opened from someone else's link shows their name.
    person = "Student1 A" if role == Role.LEARNER else ("Teacher A" if role == Role.INSTRUCTOR else "Ta A")
    assert re.search(r'<span class="person">(.*?)</span>', page).group(1) == person


def test_error_pages_are_titled_by_their_heading(client, app, world):
    page = client.get("/coursework/course").get_data(as_text=True)   # no session
    heading = re.search(r'<h1 id="err-title">(.*?)</h1>', page).group(1)
    assert heading == "Please open Gradeloop from your course"
    assert _title(page) == f"{heading} · Gradeloop"
    _student(client, app, world)
    page = client.get("/coursework/course/delete").get_data(as_text=True)
    assert _title(page) == "Not allowed · Gradeloop"


def test_a_form_sent_after_the_session_ended_says_so_and_what_to_do(client, app, world):
    _student(client, app, world)
    refused = client.post(f"/coursework/a/{world.assignment_a}/essay", data={"csrf_token": "stale", "text": "Mine."},
                          headers={"Origin": "http://localhost"})
    page = refused.get_data(as_text=True)
    assert refused.status_code == 403 and _title(page) == "Your session has ended · Gradeloop"
    assert '<h1 id="err-title">Your session has ended</h1>' in page
    assert "open Gradeloop again from there" in page and "Mine." in page


@pytest.mark.parametrize("code", ["unknown_state", "missing_state", "state_expired"])
def test_a_refused_launch_says_to_open_gradeloop_again(app, code):
    technical = "The launch's state is unknown: it was not issued by this tool's login."
    with app.test_request_context("/lti/launch", method="POST"):
        page = render_template("lti/launch_error.html", message=technical, code=code, status=400)
    alert = _text(re.search(r'<p class="error-message".*?</p>', page, re.S).group(0))
    assert "open Gradeloop again" in alert and "state" not in alert, alert
    detail = _text(re.search(r"<small>.*?</small>", page, re.S).group(0))
    assert code in detail and "not issued by this tool's login" in detail
    assert _title(page) == "Gradeloop could not start · Gradeloop"


def test_other_launch_refusals_keep_their_own_words(app):
    with app.test_request_context("/lti/launch", method="POST"):
        page = render_template("lti/launch_error.html", message="The token has no roles claim.",
                               code="missing_roles", status=400)
    assert "The token has no roles claim." in _text(re.search(r'<p class="error-message".*?</p>', page, re.S).group(0))


def test_teachers_see_which_grades_the_ai_released(client, app, world):
    _grades(app, world, GradeSource.AI_AUTO, GradeSource.AI_EDITED, GradeSource.AI_AUTO)
    _teacher(client, app, world)
    listing = client.get(f"/coursework/a/{world.assignment_a}").get_data(as_text=True)
    row = _text(re.search(r'<tr data-status="Graded"[^>]*>.*?</tr>', listing, re.S).group(0))
    assert "Released by Gradeloop (AI), not reviewed by a teacher" in row
    grading = client.get(f"/coursework/a/{world.assignment_a}/essays/{world.essay_a}").get_data(as_text=True)
    current = _text(re.search(r'<p id="current-grade">.*?</p>', grading, re.S).group(0))
    assert "Released by Gradeloop (AI), not reviewed by a teacher" in current
    history = _text(re.search(r"<summary>Earlier grades.*?</ul>", grading, re.S).group(0))
    assert "AI proposal, edited by a teacher" in history and "Released by Gradeloop (AI)" in history
    assert "ai_auto" not in grading and "ai_edited" not in grading


def test_the_essay_list_shows_which_essays_have_a_proposal_to_review(client, app, world):
    from lti_app.models import AiProposal

    _teacher(client, app, world)
    assert "proposal-link" not in client.get(f"/coursework/a/{world.assignment_a}").get_data(as_text=True)
    with app.app_context():
        proposal = AiProposal(submission_id=world.essay_a, score=4, confidence=0.5, trait_scores={}, feedback="",
                              status="pending", unusual=[])
        db.session.add(proposal)
        db.session.commit()
        proposal_id = proposal.id
    listing = client.get(f"/coursework/a/{world.assignment_a}").get_data(as_text=True)
    row = re.search(r'<tr data-status="Submitted"[^>]*>.*?</tr>', listing, re.S).group(0)
    assert f'/review/a/{world.assignment_a}/p/{proposal_id}?' in row
    # "— AI proposal 4, to review" read like proposal number 4: the score is out of the scale's top.
    assert _cells(row)[3] == "Proposed 4/6, to review"
    summary = _text(re.search(r'<p class="muted" id="summary">.*?</p>', listing, re.S).group(0))
    assert "1 AI proposal to review" in summary
    _grades(app, world, GradeSource.TEACHER)   # graded on the grading page: out of the queue, off the list
    with app.app_context():
        from lti_app.models import Submission, SubmissionStatus
        db.session.get(Submission, world.essay_a).status = SubmissionStatus.GRADED
        db.session.commit()
    assert "proposal-link" not in client.get(f"/coursework/a/{world.assignment_a}").get_data(as_text=True)


def _cells(row: str) -> list[str]:
    """The text of a table row's cells, as a browser reads it (tags joined without spaces)."""
    cells = re.findall(r"<td\b.*?</td>", row, re.S)
    return [" ".join(html.unescape(re.sub(r"<[^>]+>", "", cell)).split()) for cell in cells]


def test_a_score_the_ai_proposed_reads_apart_from_its_marker(client, app, world):
    """"3 AI proposal, approved by a teacher" read as three proposals."""
    _grades(app, world, GradeSource.AI_APPROVED)
    _teacher(client, app, world)
    listing = client.get(f"/coursework/a/{world.assignment_a}").get_data(as_text=True)
    row = re.search(r'<tr data-status="Graded"[^>]*>.*?</tr>', listing, re.S).group(0)
    assert _cells(row)[3] == "3, AI proposal, approved by a teacher"


def test_teachers_own_grades_carry_no_ai_marker(client, app, world):
    _grades(app, world, GradeSource.TEACHER)
    _teacher(client, app, world)
    listing = client.get(f"/coursework/a/{world.assignment_a}").get_data(as_text=True)
    assert "ai-source" not in listing


@pytest.mark.parametrize("source, label", [
    (GradeSource.AI_AUTO, "AI-assisted feedback, not yet reviewed by your teacher"),
    (GradeSource.AI_APPROVED, "AI-assisted feedback, reviewed by your teacher"),
    (GradeSource.AI_EDITED, "AI-assisted feedback, reviewed by your teacher")])
def test_students_read_whether_their_teacher_reviewed_the_ai_feedback(client, app, world, source, label):
    _grades(app, world, source)
    _student(client, app, world)
    page = client.get(f"/coursework/a/{world.assignment_a}/essay").get_data(as_text=True)
    assert re.search(r'id="ai-label">(.*?)</span>', page).group(1) == label


def test_counts_agree_with_their_nouns(client, app, world):
    with app.app_context():
        from lti_app.models import Submission

        db.session.get(Submission, world.essay_a).word_count = 1
        db.session.commit()
    _student(client, app, world)
    assert "Show what you handed in (1 word)" in client.get(f"/coursework/a/{world.assignment_a}/essay").get_data(
        as_text=True)
    _teacher(client, app, world)
    grading = client.get(f"/coursework/a/{world.assignment_a}/essays/{world.essay_a}").get_data(as_text=True)
    assert "· 1 word" in grading and "1 words" not in grading
    delete = client.get("/coursework/course/delete").get_data(as_text=True)
    assert "1 assignment and 1 essay" in _text(delete) and "(s)" not in delete


def test_confirm_fields_say_capitals_and_the_queue_says_what_to_do(client, app, world):
    _teacher(client, app, world)
    delete = client.get("/coursework/course/delete").get_data(as_text=True)
    assert re.search(r'<label for="confirm">Type DELETE in capitals to confirm</label>', delete)
    with app.app_context():
        from lti_app.models import AiProposal

        db.session.add(AiProposal(submission_id=world.essay_a, score=2, confidence=0.3, trait_scores={},
                                  feedback="Short.", status="pending", unusual=["much shorter"]))
        db.session.commit()
    queue = client.get(f"/review/a/{world.assignment_a}").get_data(as_text=True)
    assert ">open it<" not in queue and "Read it first" in queue


def test_every_time_is_printed_for_the_readers_zone_and_named_once(client, app, world):
    """Times were printed in UTC, some saying so and some not: a teacher in California read a hand-in
    time as theirs. Each is now a <time> with the UTC instant (the page's script shows it in the
    reader's zone), and no page adds its own "UTC" beside one."""
    from datetime import datetime

    from lti_app.models import AiProposal, Assignment, DeadLetter, ModelVersion, Submission

    moment = datetime(2026, 11, 28, 3, 24)
    with app.app_context():
        db.session.get(Submission, world.essay_a).submitted_at = moment
        db.session.add_all([
            Grade(submission_id=world.essay_a, score=3, comment="Clear.", source=GradeSource.TEACHER, score_min=1,
                  score_max=6, grader_id=world.teacher_a, created_at=moment, posted_at=moment),
            Grade(submission_id=world.essay_a, score=4, comment="Clearer.", source=GradeSource.TEACHER, score_min=1,
                  score_max=6, grader_id=world.teacher_a, created_at=moment, posted_at=moment),
            ModelVersion(assignment_id=world.assignment_a, version=1, status="promoted", approach="frozen-ridge",
                         path="v1", n_train=12, created_at=moment, promoted_at=moment),
            AiProposal(submission_id=world.essay_a, score=2, confidence=0.3, trait_scores={}, feedback="Short.",
                       status="pending", unusual=[], created_at=moment),
            DeadLetter(message_id="m1", queue="gradebook", routing_key="gradebook", payload={}, reason="LMS said no",
                       assignment_id=world.assignment_a, created_at=moment)])
        db.session.flush()
        db.session.get(Assignment, world.assignment_a).current_model_id = db.session.scalar(db.select(ModelVersion.id))
        db.session.commit()
        proposal = db.session.scalar(db.select(AiProposal.id))
    tag = '<time datetime="2026-11-28T03:24:00Z">2026-11-28 03:24 UTC</time>'
    a = world.assignment_a
    _teacher(client, app, world)
    pages = {"grading": f"/coursework/a/{a}/essays/{world.essay_a}", "essays": f"/coursework/a/{a}",
             "dashboard": f"/dashboard/a/{a}", "queue": f"/review/a/{a}", "proposal": f"/review/a/{a}/p/{proposal}"}
    # grading: hand-in, current grade, its LMS post, the earlier grade, the proposal waiting for review
    counts = {"grading": 5, "essays": 1, "dashboard": 4, "queue": 1, "proposal": 1}
    for name, url in pages.items():
        page = client.get(url).get_data(as_text=True)
        assert page.count(tag) == counts[name], name
        assert "UTC" not in page.replace(tag, ""), name
    _student(client, app, world)
    with app.app_context():
        db.session.execute(db.delete(Grade))
        db.session.commit()
    page = client.get(f"/coursework/a/{a}/essay").get_data(as_text=True)
    assert f"Handed in on {tag}. Waiting for grading:" in page and "UTC" not in page.replace(tag, "")
