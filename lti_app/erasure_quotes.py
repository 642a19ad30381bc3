"""At an erasure: classmates' AI proposals that quote the teacher's comments on the erased essays.

The worker's written feedback reuses sentences of the teacher's comments on similar graded essays
verbatim (worker/feedback/comments.py), so another student's proposal may carry a sentence written
about the erased person ("your story about your brother's accident moves the reader."). Such a
proposal is found by those sentences, whitespace aside, as they stand in its feedback:

- pending (it has reached nobody): deleted, and its essay, if still waiting for a grade, queued for
  scoring again with the event of a new hand-in (`submission.created`); the worker then writes new
  feedback from the graded essays that remain. Deleted rather than marked: the scoring handler
  skips an essay version that already has a proposal from the serving model, whatever its status.
- approved, edited or released: the student and the LMS have it. Counted for the school, and kept:
  `loading.teacher_part` needs an edited grade's proposal to tell the AI's words from the teacher's.

Sentences are cut as the feedback package cuts them (`comments.candidate_sentences`: the greeting
off, which finds the sentence with its greeting too, as the search is for a part of the feedback),
without the AI's own words in an AI-assisted grade. Its other reuse filters
(names, quotations, ...) are not applied: they change between releases, and a proposal written
under older rules may hold a sentence the current ones would drop. Feedback rephrased by a
generator model (`GRADELOOP_FEEDBACK_MODEL`) is not recognised (docs/privacy.md).
"""
from __future__ import annotations

from dataclasses import dataclass

from lti_app.events import record_event
from lti_app.extensions import db
from lti_app.models import AiProposal, Assignment, Grade, Submission


@dataclass
class Quoting:
    withdrawn: int = 0   # pending proposals deleted
    requeued: int = 0    # their essays queued for scoring again
    released: int = 0    # decided proposals quoting them, left as they are


def _norm(text: str) -> str:
    return " ".join(text.split())


def comment_sentences(submission_ids: list[int]) -> set[str]:
    """The sentences of every comment on these essays that the feedback package could reuse."""
    from worker.feedback.comments import candidate_sentences, machine_written
    from worker.feedback.loading import teacher_part

    ai_words: dict[int, list[str]] = {}
    for submission_id, feedback in db.session.execute(
            db.select(AiProposal.submission_id, AiProposal.feedback)
            .where(AiProposal.submission_id.in_(submission_ids))):
        ai_words.setdefault(submission_id, []).append(feedback or "")
    found = set()
    # Every grade, not only the latest: a classmate's proposal may date from an earlier comment.
    for submission_id, comment in db.session.execute(
            db.select(Grade.submission_id, Grade.comment).where(Grade.submission_id.in_(submission_ids))):
        # The AI's words in an approved or edited grade are sentences of other essays' comments,
        # which the package never takes from this essay: matching them would rewrite classmates'
        # feedback that owes nothing to this person.
        own = teacher_part(comment or "", ai_words.get(submission_id, []))
        # Lines Gradeloop wrote (a trait line restated with the teacher's score) are no quote of them.
        found.update(_norm(s) for s in candidate_sentences(own) if not machine_written(s))
    return found


def withdraw_quoting_proposals(erased_ids: list[int], assignment_ids: list[int]) -> Quoting:
    """Deal with the proposals of other essays of these assignments that quote the comments on the
    erased essays (see the module docstring), before those are deleted. The caller commits."""
    from lti_app.review.decisions import DONE, PENDING

    result = Quoting()
    sentences = comment_sentences(erased_ids)
    if not sentences or not assignment_ids:
        return result
    rows = db.session.execute(
        db.select(AiProposal.id, AiProposal.status, AiProposal.feedback, Submission.id, Submission.status,
                  Assignment.id, Assignment.course_id)
        .join(Submission, AiProposal.submission_id == Submission.id)
        .join(Assignment, Submission.assignment_id == Assignment.id)
        .where(Assignment.id.in_(assignment_ids), Submission.id.not_in(erased_ids))
        .order_by(AiProposal.id)).all()
    rescore: dict[int, tuple[int, int]] = {}
    for proposal_id, status, feedback, submission_id, submission_status, assignment_id, course_id in rows:
        text = _norm(feedback or "")
        if not any(s in text for s in sentences):
            continue
        # Compare-and-delete, as a teacher's decision compare-and-sets (review.decisions.decide):
        # one approved this very moment is released, and counted as such.
        if status == PENDING and db.session.execute(
                db.delete(AiProposal).where(AiProposal.id == proposal_id, AiProposal.status == PENDING)
                .execution_options(synchronize_session=False)).rowcount == 1:
            result.withdrawn += 1
            if submission_status not in DONE:   # a graded essay's proposal was settled by its grade
                rescore[submission_id] = (assignment_id, course_id)
        else:
            result.released += 1
    for submission_id, (assignment_id, course_id) in rescore.items():
        record_event("submission.created", {"submission_id": submission_id, "assignment_id": assignment_id,
                                            "course_id": course_id})
    result.requeued = len(rescore)
    return result
