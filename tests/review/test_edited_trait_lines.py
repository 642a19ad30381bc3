"""A teacher changes a trait score on a proposal's page and keeps the AI's feedback: the feedback's
line for that trait, still as Gradeloop wrote it, stated the proposed score ("Evidence (3 of 5):
<a sentence chosen for a 3>") beside the teacher's score on the student's page and in the LMS
gradebook's comment. It now states the teacher's score in the plain form ("Evidence: 1 of 5."); a
line the teacher edited is theirs and is left alone (`coursework.restated_traits`). The same on the
grading page, for an AI grade (approved or auto-released) whose trait score the teacher changes there.

The proposal's feedback is the composer's own (`compose_feedback`), so each form of trait line it
writes is the one found again: a teacher's sentence, another essay's comment, the score alone."""
from __future__ import annotations

import html
import re

from lti_app.extensions import db
from lti_app.models import AiProposal, Grade, GradeSource
from tests.coursework.conftest import own_postgres, tool  # noqa: F401  (fixtures)
from tests.coursework.flows import (create_by_deep_link, grade_page_for, open_assignment, post_form, proposal_page,
                                    submit_essay)
from worker.feedback.compose import compose_feedback
from worker.feedback.records import GradedExample

ESSAY = ("A four-day week gives students more time for hobbies. " * 3
         + "Students rest and learn more. Attendance would improve. In conclusion the week should be shorter.")
PROPOSED = {"evidence": 3, "organization": 2, "voice": 3}
# The course's graded essays: evidence comments at 3 (a teacher's sentence for a 3), praise of
# organisation at 3 (quoted as another essay's for a 2), nothing about voice (the score alone).
SAID = ["Explain how each piece of evidence supports your claim about the shorter week.",
        "Add one more piece of evidence from a school that tried the shorter week.",
        "Your evidence would be stronger with a number or a fact from a study.",
        "Say where your evidence comes from so the reader can trust it.",
        "Link every piece of evidence back to the claim in your introduction.",
        "Your organization is clear and each paragraph builds well on the one before."]
TOPICS = ["rest", "family", "sport", "reading", "money", "sleep", "travel", "music", "jobs", "health", "school", "friends"]


def _composed() -> str:
    graded = [GradedExample(f"A four-day week gives students more time for {t}. " * 3
                            + f"Students who have time for {t} come back rested and learn more. Schools that tried "
                            "it saw better attendance and calmer classrooms. In conclusion the week should be shorter.",
                            4, {"evidence": 3, "organization": 3}, " ".join(SAID)) for t in TOPICS]
    assignment = {"id": 1, "title": "Persuasive essay", "prompt": "Should students have a four-day week?",
                  "score_min": 1, "score_max": 6,
                  "traits": [{"name": n, "min": 1, "max": 5} for n in PROPOSED]}
    feedback = compose_feedback(ESSAY, 4, PROPOSED, assignment, graded, generator=False)
    sources = {p["evidence"]["trait"]: p["evidence"]["source"] for p in feedback.parts if p["kind"] == "trait"}
    assert sources == {"evidence": "teacher_comment", "organization": "next_step", "voice": "prediction"}, sources
    return feedback.text


def _review_page(peer, tool):
    """The teacher on the review page of a proposal of 4 with `PROPOSED` trait scores and the
    composer's feedback: (the teacher's browser, the page, the LMS line item, the proposal's feedback)."""
    item = create_by_deep_link(peer, tool, traits="evidence 1-5\norganization 1-5\nvoice 1-5")
    submit_essay(peer, tool, item["resource_link_id"], "student-1", ESSAY, name="Ada Student")
    teacher, _ = open_assignment(peer, tool, role="Instructor", user_id="teacher-1",
                                 resource_link_id=item["resource_link_id"])
    page = proposal_page(tool, teacher, score=4)
    feedback = _composed()
    with tool.app.app_context():
        proposal = db.session.scalar(db.select(AiProposal))
        proposal.trait_scores, proposal.feedback = dict(PROPOSED), feedback
        db.session.commit()
    return teacher, teacher.get(page.url, timeout=30), item, feedback


def _saved(tool) -> Grade:
    with tool.app.app_context():
        grade = db.session.scalar(db.select(Grade))
        db.session.expunge(grade)
        return grade


def _plain(markup: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", markup))


def test_a_changed_trait_score_restates_its_generated_line_everywhere(tool, make_peer):
    lms = make_peer(tool)
    teacher, page, item, feedback = _review_page(lms, tool)
    lines = feedback.splitlines()
    assert "Evidence (3 of 5): Say where your evidence comes from so the reader can trust it." in lines
    # A browser sends the textarea's line breaks as CRLF.
    kept = (feedback + "\nSee me about your second paragraph.").replace("\n", "\r\n")
    answer = post_form(teacher, page, {"action": "edit", "score": "2", "trait:evidence": "1",
                                       "trait:organization": "4", "trait:voice": "3", "comment": kept},
                       action_contains="/p/")
    assert answer.status_code == 200

    expected = (kept.replace("Evidence (3 of 5): Say where your evidence comes from so the reader can trust it.",
                             "Evidence: 1 of 5.")
                .replace(next(line for line in lines if line.startswith("Organization: 2 of 5. On an essay")),
                         "Organization: 4 of 5."))
    assert "Voice: 3 of 5.\r\nSee me about" in expected   # the unchanged trait's line stays
    grade = _saved(tool)
    assert (grade.comment, grade.trait_scores, grade.source) == (
        expected, {"evidence": 1, "organization": 4, "voice": 3}, GradeSource.AI_EDITED)
    sent = lms.scores(item["line_item_id"])[-1]   # after the hand-in's "pending"
    assert "Evidence: 1 of 5." in sent["comment"] and "3 of 5" not in sent["comment"].replace("Voice: 3 of 5.", "")
    notice = " ".join(_plain(answer.text).split())
    assert ("The feedback's Evidence line now says “Evidence: 1 of 5.”, the score you gave, instead of the line "
            "written for the proposed score. The feedback's Organization line now says “Organization: 4 of 5.”") in notice

    _, student = open_assignment(lms, tool, role="Learner", user_id="student-1",
                                 resource_link_id=item["resource_link_id"])
    seen = _plain(student.text)
    assert "Evidence: 1 of 5." in seen and "Evidence (3 of 5)" not in seen and "Organization: 2 of 5" not in seen


def test_a_line_the_teacher_edited_stays_and_a_cleared_score_takes_its_line_out(tool, make_peer):
    lms = make_peer(tool)
    teacher, page, item, feedback = _review_page(lms, tool)
    mine = "Evidence (3 of 5): Say where your evidence comes from. Better: quote the study."
    typed = feedback.replace("Evidence (3 of 5): Say where your evidence comes from so the reader can trust it.", mine)
    answer = post_form(teacher, page, {"action": "edit", "score": "4", "trait:evidence": "2",
                                       "trait:organization": "2", "trait:voice": "", "comment": typed},
                       action_contains="/p/")
    assert answer.status_code == 200
    grade = _saved(tool)
    assert grade.trait_scores == {"evidence": 2, "organization": 2}
    assert grade.comment == typed.replace("\nVoice: 3 of 5.", ""), grade.comment
    assert mine in grade.comment
    notice = " ".join(_plain(answer.text).split())
    assert "The feedback's Voice line was taken out: you gave no Voice score." in notice
    assert "Evidence line" not in notice


def test_unchanged_trait_scores_leave_every_line_as_proposed(tool, make_peer):
    lms = make_peer(tool)
    teacher, page, _, feedback = _review_page(lms, tool)
    answer = post_form(teacher, page, {"action": "edit", "score": "3", "trait:evidence": "3",
                                       "trait:organization": "2", "trait:voice": "3", "comment": feedback},
                       action_contains="/p/")
    assert answer.status_code == 200 and "line now says" not in answer.text
    assert _saved(tool).comment == feedback


def test_the_grading_page_restates_an_ai_grades_line_too(tool, make_peer):
    """Approved as proposed, then corrected on the grading page: its form starts from the AI grade."""
    lms = make_peer(tool)
    teacher, page, item, feedback = _review_page(lms, tool)
    assert post_form(teacher, page, {"action": "approve"}, action_contains="/p/").status_code == 200
    assert _saved(tool).source == GradeSource.AI_APPROVED
    _, listing = open_assignment(lms, tool, role="Instructor", user_id="teacher-1", browser=teacher,
                                 resource_link_id=item["resource_link_id"])
    form = grade_page_for(teacher, listing, "Ada Student")
    answer = post_form(teacher, form, {"trait:evidence": "1"}, action_contains="/essays/")
    assert answer.status_code == 200
    with tool.app.app_context():
        grade = db.session.scalars(db.select(Grade).order_by(Grade.id.desc())).first()
        assert grade.source == GradeSource.AI_EDITED and grade.trait_scores["evidence"] == 1
        said = grade.comment.splitlines()
    assert "Evidence: 1 of 5." in said and not any(line.startswith("Evidence (3 of 5)") for line in said)
    assert [line for line in said if not line.startswith("Evidence")] == [
        line for line in feedback.splitlines() if not line.startswith("Evidence")]
    assert "The feedback's Evidence line now says" in " ".join(_plain(answer.text).split())


def _grading_page_save(lms, tool, teacher, item, values: dict) -> tuple[str, str]:
    """The essay's grading page saved with `values`: (the saved comment, the page's words)."""
    _, listing = open_assignment(lms, tool, role="Instructor", user_id="teacher-1", browser=teacher,
                                 resource_link_id=item["resource_link_id"])
    answer = post_form(teacher, grade_page_for(teacher, listing, "Ada Student"), values, action_contains="/essays/")
    assert answer.status_code == 200
    with tool.app.app_context():
        return (db.session.scalars(db.select(Grade).order_by(Grade.id.desc())).first().comment,
                " ".join(_plain(answer.text).split()))


def test_an_edited_grades_restated_line_follows_the_next_change_and_the_teachers_own_line_stays(tool, make_peer):
    """After an edit on the review page the grade's comment mixes Gradeloop's lines and the
    teacher's: on the grading page only Gradeloop's are restated (the proposal's lines, and a line
    already restated with the grade's score), never one the teacher rewrote in the same frame."""
    lms = make_peer(tool)
    teacher, page, item, feedback = _review_page(lms, tool)
    mine = "Organization: 2 of 5. I liked how you ordered the photos, Ada."
    organization = next(line for line in feedback.splitlines() if line.startswith("Organization: 2 of 5."))
    typed = feedback.replace(organization, mine)
    post_form(teacher, page, {"action": "edit", "score": "4", "trait:evidence": "1", "trait:organization": "2",
                              "trait:voice": "3", "comment": typed}, action_contains="/p/")
    assert _saved(tool).source == GradeSource.AI_EDITED
    comment, said = _grading_page_save(lms, tool, teacher, item, {"trait:evidence": "2", "trait:organization": "3"})
    lines = comment.splitlines()
    assert "Evidence: 2 of 5." in lines and "Evidence: 1 of 5." not in lines, comment
    assert mine in lines, comment
    assert "The feedback's Evidence line now says" in said and "Organization line" not in said
