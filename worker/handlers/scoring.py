"""`submission.created` -> an `AiProposal` from the assignment's promoted model, then whatever the
assignment's feedback mode says (`FEEDBACK_MODES`, which the auto-feedback work may extend with
`register_feedback_mode`). No promoted model yet, or its files are missing or unreadable
(`scorer.NoModel`, which the scorer logs once with the path): acknowledged, nothing to do, the
essay waits for the teacher. Retrying could not mend the files and would only dead-letter every
new essay. Files that cannot be used are noted on the version (`gate["unreadable"]`) so that the
dashboard tells the teacher why essays wait; the next essay it scores clears the note.
A proposal records which hand-in it scored (`AiProposal.essay_submitted_at`); if the student
handed in again while the old text was being scored, the old score is dropped and the new
version's own event scores it.
"""
from __future__ import annotations

import logging
from typing import Callable

from sqlalchemy import func, select

from lti_app.events import record_event
from lti_app.extensions import db
from lti_app.models import (AiProposal, Assignment, FeedbackMode, Grade, GradeSource, ModelVersion,
                            Submission, SubmissionStatus)
from lti_app.models.base import utcnow
from lti_app.locking import for_update
from worker.errors import Deferred, PermanentError
from worker.handlers import handles

log = logging.getLogger("gradeloop.worker.scoring")


def _keep_for_review(job, assignment: Assignment, proposal: AiProposal) -> None:
    """review (and off): the proposal waits for the teacher; nothing reaches the student."""


def _auto_release(job, assignment: Assignment, proposal: AiProposal) -> list[str] | None:
    """auto: a confident proposal becomes the grade and goes to the LMS; others wait for review.
    A teacher's grade is never overwritten, and an essay unlike any the model learned from always
    waits, whatever the threshold (a teacher may set it to 0). So does the revision of an essay
    the teacher returned (it has the earlier version's grade): the teacher asked for it and reads
    it, and a model that learned from the first version would mostly repeat that grade. The grade
    carries only the trait scores that passed their check on the proposal's version
    (`trait_checks.withheld`): students never read a trait score no one has shown to agree with
    the teacher's; the proposal keeps them all for the teacher. An essay of the blind check
    (`review.blind`) is released like any other: the check hides proposals only from the teacher
    who grades them anyway, it adds no grading to auto-release. Returns the traits whose scores
    the grade left out (for the log), None when nothing was released."""
    if proposal.unusual or proposal.confidence < assignment.confidence_threshold:
        return None
    if db.session.scalar(select(Grade.id).where(Grade.submission_id == proposal.submission_id).limit(1)):
        return None
    left_out = _withheld_traits(proposal.model_version_id, proposal.trait_scores or {})
    withheld = set(left_out)
    grade = Grade(submission_id=proposal.submission_id, score=proposal.score,
                  trait_scores={k: v for k, v in (proposal.trait_scores or {}).items() if k not in withheld},
                  comment=proposal.feedback, source=GradeSource.AI_AUTO,
                  score_min=assignment.score_min, score_max=assignment.score_max)
    db.session.add(grade)
    proposal.status, proposal.decided_at = "released", utcnow()
    db.session.get(Submission, proposal.submission_id).status = SubmissionStatus.GRADED
    db.session.flush()
    record_event("gradebook.sync", {"assignment_id": assignment.id, "grade_id": grade.id})
    return left_out


def _withheld_traits(model_version_id: int | None, trait_scores: dict) -> list[str]:
    """The traits of `trait_scores` that auto-released grades and their written feedback leave
    out (`trait_checks.withheld`). A proposal made without a model (by hand: every scored one names
    its version) has no verdict to consult."""
    from worker.ml import trait_checks   # plain Python, no model code

    if not trait_scores or model_version_id is None:
        return []
    version = db.session.get(ModelVersion, model_version_id)
    return trait_checks.withheld(version.gate if version is not None else None, list(trait_scores))


FEEDBACK_MODES: dict[FeedbackMode, Callable] = {
    FeedbackMode.OFF: _keep_for_review,
    FeedbackMode.REVIEW: _keep_for_review,
    FeedbackMode.AUTO_RELEASE: _auto_release,
}


def register_feedback_mode(mode: FeedbackMode, fn: Callable) -> None:
    """`fn(job, assignment, proposal)` runs in the scoring transaction after the proposal is added."""
    FEEDBACK_MODES[mode] = fn


_feedback_writer: Callable | None = None


def register_feedback_writer(fn: Callable) -> None:
    """`fn(assignment, submission, score, trait_scores, unusual) -> str`: the proposal's written
    feedback, composed before the essay's row is locked (the feedback modes keep it)."""
    global _feedback_writer
    _feedback_writer = fn


def _scored_already(submission_id: int, model_id: int) -> bool:
    """Whether this version of the essay has a proposal from this model."""
    return db.session.scalar(select(AiProposal.id).join(Submission, AiProposal.submission_id == Submission.id)
                             .where(AiProposal.submission_id == submission_id, AiProposal.model_version_id == model_id,
                                    AiProposal.for_current_version()).limit(1)) is not None


def _grades(assignment_id: int, up_to: int | None = None) -> tuple[int, int]:
    """(how many grades the assignment's essays have, the newest id), counting only ids up to
    `up_to`: fewer of the grades seen before means graded essays were deleted, whatever grades
    were added meanwhile (a plain count let one new grade hide one erased)."""
    query = (select(func.count(Grade.id), func.coalesce(func.max(Grade.id), 0))
             .join(Submission, Grade.submission_id == Submission.id).where(Submission.assignment_id == assignment_id))
    if up_to is not None:
        query = query.where(Grade.id <= up_to)
    count, newest = db.session.execute(query).one()
    return count, newest


def _note_unreadable(model_id: int, detail: str | None) -> None:
    """Record on the version that its files could not be used (`detail`), or that they can again
    (None). Written only when that changes, so a course's essays do not each rewrite the row."""
    mv = db.session.get(ModelVersion, model_id)
    if mv is None or ((mv.gate or {}).get("unreadable") is None) == (detail is None):
        return
    gate = {k: v for k, v in (mv.gate or {}).items() if k != "unreadable"}
    mv.gate = gate if detail is None else {**gate, "unreadable": {"at": utcnow().isoformat(), "detail": detail[:500]}}


@handles("submission.created")
def score_new_submission(job) -> None:
    submission = db.session.get(Submission, job.payload["submission_id"])
    if submission is None:
        log.info("event=scoring_skipped reason=submission_gone submission_id=%s", job.payload["submission_id"])
        return
    assignment = db.session.get(Assignment, submission.assignment_id)
    if assignment.current_model_id is None:
        log.info("event=scoring_skipped reason=no_model assignment_id=%s", assignment.id)
        return
    model_id = assignment.current_model_id
    if _scored_already(submission.id, model_id):
        return   # this version of the essay was scored by this model already (e.g. a requeued event)
    from worker.ml import scorer   # onnxruntime loads only in workers that score

    handed_in = submission.submitted_at
    try:
        prediction = scorer.score_submission(job.app, submission.id)
    except scorer.NoModel as exc:
        log.info("event=scoring_skipped reason=no_model detail=%r", str(exc))
        if isinstance(exc, scorer.UnusableFiles):
            _note_unreadable(model_id, str(exc))
        return
    except scorer.ModelMismatch as exc:
        raise PermanentError(str(exc)) from exc
    trait_scores = {name: t.get("score") for name, t in (prediction.traits or {}).items()}
    feedback = None
    if _feedback_writer is not None and assignment.feedback_mode != FeedbackMode.OFF:
        graded = _grades(assignment.id)
        # Before the lock below: a course's feedback index can take a second or more to build. A
        # proposal the teacher reviews speaks of every trait (approving gives the student every
        # trait score); one that will be auto-released without some trait scores has no lines on
        # those (`_auto_release`). Written once: should the settings change before the decision
        # below and keep it for review, its feedback just lacks those lines.
        withheld = set(_withheld_traits(model_id, trait_scores))
        if not (withheld and assignment.feedback_mode == FeedbackMode.AUTO_RELEASE and not prediction.unusual
                and float(prediction.confidence) >= assignment.confidence_threshold):
            withheld = set()
        feedback = _feedback_writer(assignment, submission, float(prediction.score),
                                    {k: v for k, v in trait_scores.items() if k not in withheld},
                                    list(prediction.unusual))
    # The student may have handed in a new version while this one was scored. Re-read the row
    # (locked on PostgreSQL until this transaction ends, so a hand-in now waits for the proposal
    # and the auto-release below) and give up if it changed: the new version's own event scores it.
    current = db.session.execute(for_update(select(Submission).where(Submission.id == submission.id))
                                 .execution_options(populate_existing=True)).scalar_one_or_none()
    if current is None or current.submitted_at != handed_in:
        log.info("event=scoring_skipped reason=resubmitted_while_scoring submission_id=%s", submission.id)
        return
    if _scored_already(submission.id, model_id):
        # Two deliveries scored the same version at once (the event of an earlier version, or a
        # redelivered copy): one proposal, one "waiting for review" post to the LMS.
        log.info("event=scoring_skipped reason=scored_meanwhile submission_id=%s", submission.id)
        return
    # Settings saved while the essay was scored (auto-release turned off, a higher threshold)
    # decide what happens to it: read them again, share-locked so that a save in flight comes
    # wholly before this decision or after it.
    assignment = db.session.scalars(for_update(select(Assignment).where(Assignment.id == assignment.id), read=True)
                                    .execution_options(populate_existing=True)).one()
    if feedback is not None and _grades(assignment.id, up_to=graded[1])[0] < graded[0]:
        # Graded essays were deleted (an erasure) while the feedback was written: it may quote the
        # teacher's comments on them, and the erasure, which locks this row before it looks for
        # such quotes, could not see a proposal not yet stored. Write the feedback again.
        raise Deferred(f"graded essays of assignment {assignment.id} were deleted while essay "
                       f"{submission.id}'s feedback was written", delay=1.0)
    if assignment.current_model_id != model_id:
        # Rolled back, replaced, or retired after an erasure while the essay was scored: this score
        # is from a model that no longer serves. The next one scores it; none: it waits for the
        # teacher.
        log.info("event=scoring_skipped reason=model_changed_while_scoring submission_id=%s was=%s now=%s",
                 submission.id, model_id, assignment.current_model_id)
        if assignment.current_model_id is not None:
            raise Deferred(f"the model of assignment {assignment.id} changed while essay {submission.id} was "
                           "scored", delay=1.0)
        return
    proposal = AiProposal(submission_id=submission.id, model_version_id=model_id,
                          essay_submitted_at=handed_in, feedback=feedback,
                          score=float(prediction.score), confidence=float(prediction.confidence),
                          trait_scores=trait_scores, unusual=list(prediction.unusual), status="pending")
    db.session.add(proposal)
    db.session.flush()
    _note_unreadable(model_id, None)   # restored files: the dashboard stops saying they cannot be read
    FEEDBACK_MODES.get(assignment.feedback_mode, _keep_for_review)(job, assignment, proposal)
