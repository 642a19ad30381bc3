"""What happens after the course model scored a submission: written feedback is composed and the
`AiProposal` completed, then the assignment's feedback mode decides who sees it.

- `auto`: a proposal at or above the confidence threshold becomes an `AI_AUTO` grade (never training
  data) posted to the LMS at once; a less confident one waits for the teacher, like `review`.
- `review`: the proposal waits in the teacher's review queue; the LMS gradebook shows the essay as
  handed in and awaiting a person (`gradingProgress=PendingManual`).
- `off`: nothing: the proposal is dropped, nobody sees it.

Registered into the messaging engineer's scoring dispatch (`worker.handlers.scoring`) through
`register_feedback_mode` when this module is imported (it is one of the worker's built-in handler
modules). Everything runs inside the scoring handler's transaction.
"""
from __future__ import annotations

import logging

from lti_app.events import record_event
from lti_app.extensions import db
from lti_app.models import AiProposal, Assignment, FeedbackMode, Submission, SubmissionStatus
from worker.handlers import scoring

log = logging.getLogger("gradeloop.worker.autofeedback")

PENDING_MANUAL = "PendingManual"


def write_feedback(assignment: Assignment, submission: Submission, score: float, trait_scores: dict,
                   unusual: list) -> str:
    """The written feedback for a scored essay, in the teacher's voice. The scoring handler calls it
    before it takes the essay's row lock (building a course's feedback index takes a second or
    more, and on SQLite that lock is the whole database's)."""
    from worker.feedback.compose import compose_feedback
    from worker.feedback.loading import load_graded_examples

    examples = load_graded_examples(assignment.id, exclude_submission_id=submission.id)
    return compose_feedback(submission.text, score, trait_scores or {}, assignment, examples, unusual=unusual).text


def compose_for(assignment: Assignment, proposal: AiProposal) -> None:
    """Fill `proposal.feedback` in the teacher's voice (kept when it already has some: written
    before the lock, or a requeued or hand-made proposal, which is not rewritten)."""
    if proposal.feedback:
        return
    submission = db.session.get(Submission, proposal.submission_id)
    proposal.feedback = write_feedback(assignment, submission, proposal.score, proposal.trait_scores or {},
                                       proposal.unusual)


def awaiting_teacher(assignment: Assignment, proposal: AiProposal) -> None:
    """The LMS shows the essay as waiting for manual grading (the student sees nothing yet)."""
    submission = db.session.get(Submission, proposal.submission_id)
    if submission is None or submission.user_id is None or submission.status in (SubmissionStatus.GRADED,
                                                                                 SubmissionStatus.RETURNED):
        return
    record_event("gradebook.sync", {"assignment_id": assignment.id, "submission_id": submission.id,
                                    "activity_progress": "Submitted", "grading_progress": PENDING_MANUAL})


def review(job, assignment: Assignment, proposal: AiProposal) -> None:
    compose_for(assignment, proposal)
    awaiting_teacher(assignment, proposal)
    log.info("event=proposal_for_review submission_id=%s score=%s confidence=%.3f",
             proposal.submission_id, proposal.score, proposal.confidence)


def auto_release(job, assignment: Assignment, proposal: AiProposal) -> None:
    compose_for(assignment, proposal)
    left_out = scoring._auto_release(job, assignment, proposal)   # threshold check, AI_AUTO grade, gradebook.sync
    if proposal.status == "pending":
        awaiting_teacher(assignment, proposal)
    log.info("event=proposal_%s submission_id=%s score=%s confidence=%.3f threshold=%.2f%s",
             "released" if proposal.status == "released" else "for_review", proposal.submission_id,
             proposal.score, proposal.confidence, assignment.confidence_threshold,
             f" traits_left_out={','.join(left_out or [])!r}" if proposal.status == "released" else "")


def off(job, assignment: Assignment, proposal: AiProposal) -> None:
    db.session.delete(proposal)


def install() -> None:
    scoring.register_feedback_mode(FeedbackMode.REVIEW, review)
    scoring.register_feedback_mode(FeedbackMode.AUTO_RELEASE, auto_release)
    scoring.register_feedback_mode(FeedbackMode.OFF, off)
    scoring.register_feedback_writer(write_feedback)


install()
