"""AI-written feedback keeps its "AI-assisted" label wherever the student reads it: on Gradeloop's
page and in the LMS gradebook (the comment posted over AGS, and the revision notes that repeat it),
and after a teacher corrects only the score of an AI grade on the grading page.

AI grades are made by the real code that makes them (the worker's auto-release, the review
page's decision) and posted to the peer LMS over HTTP."""
import re

import pytest

from lti_app.extensions import db
from lti_app.lms.gradebook import process_sync
from lti_app.models import AiProposal, Assignment, Grade, GradeSource, Submission, User
from tests.coursework.flows import create_by_deep_link, grade_page_for, open_assignment, post_form, submit_essay

ESSAY = "A four-day week would give students time to rest.\n\nIt would also save energy."
FEEDBACK = "Your reasons are clear.\n- Give one example for each reason."
AUTO_LABEL = "AI-assisted feedback, not yet reviewed by your teacher."
REVIEWED_LABEL = "AI-assisted feedback, reviewed by your teacher."


def _ai_graded(peer, tool_server, how: str, *, show_ai_label: bool = True):
    """A student's essay with an AI grade (4 of 6, FEEDBACK) posted to the LMS; returns the item."""
    from lti_app.review.decisions import decide
    from worker.handlers.scoring import _auto_release

    item = create_by_deep_link(peer, tool_server)
    submit_essay(peer, tool_server, item["resource_link_id"], "student-1", ESSAY, name="Ada Student")
    with tool_server.app.app_context():
        assignment = db.session.scalar(db.select(Assignment))
        assignment.show_ai_label = show_ai_label
        submission = db.session.scalar(db.select(Submission))
        proposal = AiProposal(submission_id=submission.id, score=4, trait_scores={}, confidence=0.9,
                              feedback=FEEDBACK, unusual=[], essay_submitted_at=submission.submitted_at)
        db.session.add(proposal)
        db.session.flush()
        if how == "auto":
            _auto_release(None, assignment, proposal)
        else:
            teacher = db.session.scalar(db.select(User).filter_by(sub="teacher-1"))
            decide(assignment, proposal, None, teacher.id)
        db.session.commit()
        grade = db.session.scalar(db.select(Grade))
        assert process_sync({"assignment_id": assignment.id, "grade_id": grade.id}) == "posted"
    return item


def _student_page(peer, tool_server, item):
    return open_assignment(peer, tool_server, role="Learner", user_id="student-1",
                           resource_link_id=item["resource_link_id"])[1]


@pytest.mark.parametrize("how, label", [("auto", AUTO_LABEL), ("approved", REVIEWED_LABEL)])
def test_ai_feedback_reaches_the_lms_with_the_label_the_student_page_shows(peer, tool_server, how, label):
    item = _ai_graded(peer, tool_server, how)
    posted = peer.scores(item["line_item_id"])[-1]
    assert (posted["scoreGiven"], posted["comment"]) == (4, f"{label}\n\n{FEEDBACK}")
    with tool_server.app.app_context():
        grade = db.session.scalar(db.select(Grade))
        assert grade.comment == FEEDBACK and grade.posted_at is not None   # the label is not stored
    page = _student_page(peer, tool_server, item)
    # The page may say more than the gradebook comment (that no teacher reviewed it yet), never
    # something else: it starts with the words the LMS got.
    assert f'id="ai-label">{label.rstrip(".")}</span>' in page.text


def test_the_label_follows_the_setting_and_comes_with_the_comment_in_revision_notes(peer, tool_server):
    """Off, the LMS gets the feedback alone. Turned on later, the next post of the grade (the
    note of a return for revision, which repeats the comment for LMSs other than Canvas) has it."""
    item = _ai_graded(peer, tool_server, "auto", show_ai_label=False)
    assert peer.scores(item["line_item_id"])[-1]["comment"] == FEEDBACK
    assert 'id="ai-label"' not in _student_page(peer, tool_server, item).text
    with tool_server.app.app_context():
        db.session.scalar(db.select(Assignment)).show_ai_label = True
        db.session.commit()
    teacher, listing = open_assignment(peer, tool_server, role="Instructor", user_id="teacher-1",
                                       resource_link_id=item["resource_link_id"])
    returned = post_form(teacher, grade_page_for(teacher, listing, "Ada Student"), action_contains="/return")
    assert returned.status_code == 200 and "Returned for revision" in returned.text
    note = peer.scores(item["line_item_id"])[-1]
    assert note["comment"].startswith("Returned for revision")
    assert note["comment"].endswith(f"{AUTO_LABEL}\n\n{FEEDBACK}")


def test_a_teacher_who_corrects_only_the_score_keeps_the_ai_label(peer, tool_server):
    """The grading page opens with the auto-released grade's comment filled in. Saving it with a
    new score leaves every word the AI's: the grade is the teacher's (AI_EDITED, a training
    example) but the student is still told the feedback is AI-assisted, also after the teacher adds
    a sentence. Once the teacher rewrites the comment, it is theirs (TEACHER) and unlabelled."""
    item = _ai_graded(peer, tool_server, "auto")
    teacher, listing = open_assignment(peer, tool_server, role="Instructor", user_id="teacher-1",
                                       resource_link_id=item["resource_link_id"])
    page = grade_page_for(teacher, listing, "Ada Student")
    # A browser sends the prefilled textarea back with CRLF line breaks.
    saved = post_form(teacher, page, {"score": "3", "comment": FEEDBACK.replace("\n", "\r\n")},
                      action_contains="/essays/")
    assert saved.status_code == 200 and "sent to the LMS gradebook" in saved.text
    with tool_server.app.app_context():
        grade = db.session.scalars(db.select(Grade).order_by(Grade.id.desc())).first()
        assert (grade.score, grade.source, grade.is_training_example) == (3, GradeSource.AI_EDITED, True)
    posted = peer.scores(item["line_item_id"])[-1]
    assert (posted["scoreGiven"], posted["comment"].replace("\r\n", "\n")) == (3, f"{REVIEWED_LABEL}\n\n{FEEDBACK}")
    assert f'id="ai-label">{REVIEWED_LABEL.rstrip(".")}</span>' in _student_page(peer, tool_server, item).text

    added = post_form(teacher, saved, {"score": "3", "comment": FEEDBACK + "\nI liked your second reason best."},
                      action_contains="/essays/")
    assert added.status_code == 200 and "sent to the LMS gradebook" in added.text
    with tool_server.app.app_context():   # the AI's words are still there: still labelled
        assert db.session.scalars(db.select(Grade).order_by(Grade.id.desc())).first().source == GradeSource.AI_EDITED
    assert peer.scores(item["line_item_id"])[-1]["comment"].startswith(f"{REVIEWED_LABEL}\n\n{FEEDBACK}")

    rewritten = post_form(teacher, added, {"score": "3", "comment": "Add one example for each reason."},
                          action_contains="/essays/")
    assert rewritten.status_code == 200 and "sent to the LMS gradebook" in rewritten.text
    with tool_server.app.app_context():
        grade = db.session.scalars(db.select(Grade).order_by(Grade.id.desc())).first()
        assert grade.source == GradeSource.TEACHER
    assert peer.scores(item["line_item_id"])[-1]["comment"] == "Add one example for each reason."
    assert 'id="ai-label"' not in _student_page(peer, tool_server, item).text


def test_saving_an_auto_released_grade_unchanged_approves_it(peer, tool_server):
    """Nothing changed is the teacher's approval, as on the review page (AI_APPROVED: the model
    gave that score, which training knows as `had_proposal`)."""
    item = _ai_graded(peer, tool_server, "auto")
    teacher, listing = open_assignment(peer, tool_server, role="Instructor", user_id="teacher-1",
                                       resource_link_id=item["resource_link_id"])
    saved = post_form(teacher, grade_page_for(teacher, listing, "Ada Student"), action_contains="/essays/")
    assert saved.status_code == 200 and "Grade saved" in saved.text
    with tool_server.app.app_context():
        grade = db.session.scalars(db.select(Grade).order_by(Grade.id.desc())).first()
        assert (grade.score, grade.comment, grade.source) == (4, FEEDBACK, GradeSource.AI_APPROVED)
    assert peer.scores(item["line_item_id"])[-1]["comment"] == f"{REVIEWED_LABEL}\n\n{FEEDBACK}"


def test_feedback_rewritten_on_the_review_page_is_the_teachers_and_unlabelled(peer, tool_server):
    """Deciding a proposal with every sentence replaced was saved AI_EDITED and posted as
    "AI-assisted feedback, reviewed by your teacher" above words the teacher wrote; a proposal
    edited but keeping the AI's sentences still carries the label."""
    from lti_app.review.decisions import decide

    item = create_by_deep_link(peer, tool_server)
    submit_essay(peer, tool_server, item["resource_link_id"], "student-1", ESSAY, name="Ada Student")
    with tool_server.app.app_context():
        assignment = db.session.scalar(db.select(Assignment))
        submission = db.session.scalar(db.select(Submission))
        teacher = db.session.scalar(db.select(User).filter_by(sub="teacher-1"))
        proposal = AiProposal(submission_id=submission.id, score=4, trait_scores={}, confidence=0.9,
                              feedback=FEEDBACK, unusual=[], essay_submitted_at=submission.submitted_at)
        db.session.add(proposal)
        db.session.flush()
        grade = decide(assignment, proposal, {"score": 4, "comment": "Strong opening. Now answer the other side."},
                       teacher.id)
        db.session.commit()
        assert grade.source == GradeSource.TEACHER
        assert process_sync({"assignment_id": assignment.id, "grade_id": grade.id}) == "posted"
    assert peer.scores(item["line_item_id"])[-1]["comment"] == "Strong opening. Now answer the other side."


def test_keeping_one_ai_sentence_keeps_the_label():
    from lti_app.coursework.ai_words import keeps_ai_words

    assert keeps_ai_words("Good work.\r\n- give ONE example for each reason.", FEEDBACK)
    assert not keeps_ai_words("Your reasons are good. Give examples.", FEEDBACK)
    assert not keeps_ai_words("Clear.", "Clear.\nWell done."), "a two-word sentence is anyone's"
    assert not keeps_ai_words("", FEEDBACK)
    assert keeps_ai_words(" Clear. ", "Clear."), "the AI's whole comment, however short"
