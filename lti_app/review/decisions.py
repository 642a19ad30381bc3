"""The review queue and the teacher's decision on a proposal (no HTTP here, so the worker-side
tests and the views share it; the grading page asks which proposal of an essay is queued).

Approving unchanged gives an `AI_APPROVED` grade; any change to the score, a trait score or the
feedback gives `AI_EDITED` (the teacher's own grade, still labelled AI-assisted), or `TEACHER` when
no sentence of the AI's feedback is left (`coursework.ai_words`). All are training data, and all go to the
LMS through `coursework.grading.save_grade` (events `grade.created` and `gradebook.sync`).

A trait score changed while the AI's feedback is kept: the feedback's line for that trait, still as
generated, states the proposed score ("Evidence (3 of 5): <a sentence chosen for a 3>"), beside the
teacher's score on the student's page and in the LMS. That line becomes the plain "Evidence: 1 of
5." (`coursework.restated_traits`); a line the teacher edited is theirs and stays as it is.
"""
from __future__ import annotations

from lti_app.coursework.ai_words import keeps_ai_words
from lti_app.coursework.grading import save_grade
from lti_app.extensions import db
from lti_app.models import AiProposal, Assignment, Grade, GradeSource, Submission, SubmissionStatus
from lti_app.models.base import utcnow
from lti_app.locking import for_update
from lti_app.coursework.restated_traits import restated_trait_lines

PENDING = "pending"
# Nothing to decide: graded, or graded and returned to the student for revision.
DONE = (SubmissionStatus.GRADED, SubmissionStatus.RETURNED)


class AlreadyDecided(ValueError):
    """The essay was graded (or the proposal decided) since the page was opened."""


def _in_queue():
    """The pending proposals of student essays still waiting for a grade, newest first. A proposal
    older than the essay's latest hand-in scored a text the student has since replaced, and one of
    an essay graded meanwhile (a teacher's grade on the grading page) was settled by that grade:
    both are left out."""
    return (db.select(AiProposal).join(Submission, AiProposal.submission_id == Submission.id)
            .where(Submission.user_id.is_not(None), Submission.status.not_in(DONE), AiProposal.status == PENDING,
                   AiProposal.for_current_version())
            .order_by(AiProposal.id.desc()))


def pending_proposals(assignment_id: int) -> list[AiProposal]:
    """The newest pending proposal of each student essay still waiting for a grade, least
    confident first (those need the teacher's eye most)."""
    rows = db.session.scalars(_in_queue().where(Submission.assignment_id == assignment_id)).all()
    newest: dict[int, AiProposal] = {}
    for proposal in rows:
        newest.setdefault(proposal.submission_id, proposal)
    return sorted(newest.values(), key=lambda p: (p.confidence, p.id))


def queued_proposal(submission_id: int) -> AiProposal | None:
    """The proposal the review queue lists for this essay (its newest pending one), or None: what
    the grading page shows, since saving a grade there takes the essay out of the queue."""
    return db.session.scalars(_in_queue().where(AiProposal.submission_id == submission_id).limit(1)).first()


def _same_text(a: str, b: str) -> bool:
    return " ".join((a or "").split()) == " ".join((b or "").split())


def is_unchanged(proposal: AiProposal, data: dict) -> bool:
    proposed_traits = {k: float(v) for k, v in (proposal.trait_scores or {}).items() if v is not None}
    given_traits = {k: float(v) for k, v in (data.get("trait_scores") or {}).items() if v is not None}
    return (float(data["score"]) == float(proposal.score) and given_traits == proposed_traits
            and _same_text(data.get("comment") or "", proposal.feedback))


def proposal_values(proposal: AiProposal) -> dict:
    return {"score": proposal.score, "comment": proposal.feedback,
            "trait_scores": {k: v for k, v in (proposal.trait_scores or {}).items() if v is not None}}


def restated(assignment: Assignment, proposal: AiProposal, data: dict) -> tuple[str, list[tuple]]:
    """`restated_trait_lines` for a proposal saved with the teacher's values `data`."""
    return restated_trait_lines(assignment.traits, proposal.trait_scores, proposal.feedback, data)


def decide(assignment: Assignment, proposal: AiProposal, data: dict | None, teacher_id: int) -> Grade:
    """Release the proposal (`data=None`: as proposed; else the teacher's values) as the student's
    grade. The caller commits."""
    # The essay's row locked (PostgreSQL), as a grade save holds it: a teacher's grade saved
    # meanwhile on the grading page is then seen here, not silently replaced by the AI's.
    submission = db.session.scalar(for_update(db.select(Submission).where(Submission.id == proposal.submission_id))
                                   .execution_options(populate_existing=True))
    if proposal.status != PENDING or submission.status in DONE:
        raise AlreadyDecided("This essay has been graded in the meantime; nothing was changed.")
    if db.session.scalar(db.select(AiProposal.id).join(Submission, AiProposal.submission_id == Submission.id)
                         .where(AiProposal.id == proposal.id, AiProposal.for_older_version())):
        raise AlreadyDecided("The student handed in a new version after this proposal was made; "
                             "nothing was changed. Grade the new version instead.")
    values = proposal_values(proposal) if data is None else data
    edited = data is not None and not is_unchanged(proposal, data)
    # Compare-and-set: two reviewers deciding the same proposal at once both read "pending" above;
    # only the first UPDATE matches (PostgreSQL makes the second wait for the first's commit and
    # then re-check the condition), so the second is told instead of releasing a second grade.
    status = "edited" if edited else "approved"
    claimed = db.session.execute(
        db.update(AiProposal).where(AiProposal.id == proposal.id, AiProposal.status == PENDING)
        .values(status=status, decided_at=utcnow()).execution_options(synchronize_session=False))
    if claimed.rowcount != 1:
        raise AlreadyDecided("Someone else decided this proposal in the meantime; nothing was changed.")
    db.session.refresh(proposal)
    if not edited:
        source = GradeSource.AI_APPROVED
    elif keeps_ai_words(values.get("comment") or "", proposal.feedback):
        source = GradeSource.AI_EDITED
    else:   # every word rewritten: the teacher's feedback, not to be labelled AI-assisted
        source = GradeSource.TEACHER
    if edited:   # after the source: the label follows what the teacher kept, not Gradeloop's restated line
        values = {**values, "comment": restated(assignment, proposal, values)[0]}
    return save_grade(assignment, submission, values, teacher_id, source=source)
