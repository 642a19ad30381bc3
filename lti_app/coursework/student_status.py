"""What a student waiting on a handed-in essay is told, and the small JSON their page polls so a
grade shows up without the student reloading.

A student who handed in used to read "Waiting for grading." and nothing more, on a page that never
changed: with auto-release on, the feedback came within a minute but only a reload showed it; with
review, nothing said the teacher reads it first. `waiting_note` says which, and `page_state` is a
fingerprint of everything that changes the page (a grade, a return, a proposal held for the
teacher), which `static/gradeloop.js` compares against the one the page was drawn with. A change
is announced in the page's live region with a link that shows it: the page never reloads by itself
(a screen-reader user reading their essay lost their place when it did; WCAG 3.2.5).
"""
from __future__ import annotations

from flask import jsonify

from lti_app import worker_presence
from lti_app.auth import require_launch
from lti_app.coursework import access, bp
from lti_app.extensions import db
from lti_app.lms.gradebook import latest_grade
from lti_app.models import AiProposal, Assignment, FeedbackMode, Grade, Submission, SubmissionStatus

SOON = ("Waiting for grading: your feedback usually appears here within a few minutes. "
        "If your teacher wants to read your essay first, it takes longer.")
TEACHER = "Waiting for grading: your teacher will grade it, and the score and feedback will appear here."
REVISION = ("Waiting for grading: your teacher will read your new version and grade it, and the score and "
            "feedback will appear here.")


def _held_for_teacher(submission: Submission) -> bool:
    """The course model scored this version and left it for the teacher (low confidence, or an
    essay unlike the ones it learned from)."""
    return db.session.scalar(
        db.select(AiProposal.id).join(Submission, Submission.id == AiProposal.submission_id)
        .where(AiProposal.submission_id == submission.id, AiProposal.status == "pending",
               AiProposal.for_current_version()).limit(1)) is not None


def _graded_before(submission: Submission) -> bool:
    """A revision of an essay the teacher returned: it keeps the earlier version's grade, and
    auto-release never grades an essay that has one (`worker.handlers.scoring._auto_release`)."""
    return db.session.scalar(db.select(Grade.id).where(Grade.submission_id == submission.id).limit(1)) is not None


def _model_may_release(assignment: Assignment, submission: Submission) -> bool:
    """A course model serves the assignment with auto-release and may release this essay's grade:
    not before there is a model, once it held this essay back, nor for a revision."""
    return (assignment.feedback_mode == FeedbackMode.AUTO_RELEASE and assignment.current_model_id is not None
            and not _graded_before(submission) and not _held_for_teacher(submission))


def feedback_soon(assignment: Assignment, submission: Submission) -> bool:
    """Auto-release promises feedback soon only when the model may release this essay's grade and a
    worker scores essays now (`worker_presence`); otherwise the teacher grades it."""
    return _model_may_release(assignment, submission) and worker_presence.serves(worker_presence.SCORING)


def waiting_note(assignment: Assignment, submission: Submission) -> str:
    if feedback_soon(assignment, submission):
        return SOON
    return REVISION if _graded_before(submission) else TEACHER


def page_state(assignment: Assignment, submission: Submission | None) -> str:
    """Changes whenever the student's page would for the essay: a new version, a grade, a return,
    the model holding it for the teacher. Not whether a worker runs: a worker restarting (a deploy)
    leaves none for a few seconds, and every waiting student would be told of news about their
    essay that is none. The note follows the worker on the page's next load."""
    if submission is None:
        return "none"
    grade = latest_grade(submission.id)
    soon = submission.status == SubmissionStatus.SUBMITTED and _model_may_release(assignment, submission)
    return "|".join([submission.status.value, submission.submitted_at.isoformat() if submission.submitted_at else "",
                     str(grade.id) if grade else "", "soon" if soon else ""])


def _news(submission: Submission | None) -> tuple[str, str]:
    """(what the page's notice says, its link's words) once the page's state changed."""
    if submission is not None and submission.status == SubmissionStatus.RETURNED:
        return "Your teacher returned your essay for revision.", "Show my feedback"
    grade = latest_grade(submission.id) if submission is not None else None
    # A revision keeps the earlier version's grade: that one is not news.
    if grade is not None and not grade.on_earlier_version:
        return "Your essay has been graded.", "Show my feedback"
    return "There is news about your essay.", "Show it"


@bp.get("/a/<int:assignment_id>/essay/state.json")
@require_launch(renews=False)
def student_state(assignment_id: int):
    assignment = access.assignment_for_student(assignment_id)
    submission = db.session.scalar(db.select(Submission).filter_by(assignment_id=assignment.id,
                                                                   user_id=access.launch().user_id))
    news, action = _news(submission)
    response = jsonify({"state": page_state(assignment, submission), "news": news, "action": action})
    response.headers["Cache-Control"] = "no-store"
    return response
