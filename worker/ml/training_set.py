"""Build a course's training set from the database: every submission's latest grade that counts
as a teacher's judgement (teacher, import, AI approved/edited; never auto-released AI grades),
paired with the text it was given on (a returned essay's grade keeps the version it graded).

Grades given on another scale (the teacher changed the assignment's range later) are mapped
linearly onto the current scale, and half points go up, trait scores' too (4.5 trains as 5:
Python's `round` sent 3.5 and 4.5 both to 4). Each essay also records which trait scores judge
a trait (`Examples.trait_chosen`): not those of a proposal approved as it stood, the model's own;
and which model versions' proposals were in view when it was graded (`Examples.proposed_by`).
Needs an app context.
"""
from __future__ import annotations

import math

from lti_app.extensions import db
from lti_app.models import TRAINING_SOURCES, AiProposal, Assignment, Grade, GradeSource, Submission
from worker.ml.examples import Examples


def rescale(value: float, lo: int, hi: int, new_lo: int, new_hi: int) -> float:
    if (lo, hi) == (new_lo, new_hi) or hi <= lo:
        return float(value)
    return new_lo + (float(value) - lo) * (new_hi - new_lo) / (hi - lo)


def whole_score(value: float, lo: int, hi: int) -> int:
    """`value` as a whole score in lo..hi, halves going up (Python's `round` takes 3.5 and 4.5 to 4)."""
    return min(hi, max(lo, math.floor(value + 0.5)))


def _proposals(assignment_id: int) -> dict[int, list[tuple[int | None, object, float]]]:
    """submission id -> [(model version id, when it proposed, its score)] of the assignment's
    proposals, oldest first."""
    rows = db.session.execute(db.select(AiProposal.submission_id, AiProposal.model_version_id, AiProposal.created_at,
                                        AiProposal.score)
                              .join(Submission, Submission.id == AiProposal.submission_id)
                              .where(Submission.assignment_id == assignment_id)
                              .order_by(AiProposal.created_at, AiProposal.id))
    out: dict[int, list] = {}
    for sub_id, version_id, created, score in rows:
        out.setdefault(sub_id, []).append((version_id, created, score))
    return out


def _in_view(grade: Grade, proposals) -> list:
    """The proposals the teacher had in front of them for `grade`: every one made before it (the
    grading page shows a queued proposal too; a later one, for a revision, was not there). An
    approved or edited proposal's grade had at least the first, whatever two machines' clocks say."""
    seen = [p for p in proposals if p[1] <= grade.created_at]
    if not seen and proposals and grade.source in (GradeSource.AI_APPROVED, GradeSource.AI_EDITED):
        return [min(proposals, key=lambda p: p[1])]
    return seen


def _trait_chosen(grade: Grade, given: dict) -> frozenset:
    """The traits of `given` (the grade's trait scores) that judge a trait (`trait_checks.measure`):
    all of a grade given by hand, imported, or an edited proposal's; none of a proposal approved as
    it stood (the review form fills in the model's own trait scores, and "Approve the ticked
    proposals" never shows them, so they would measure the model against itself). An edited
    proposal counts whole, the trait values the teacher kept with those they changed: counting only
    the changed ones judged the model on its mistakes alone (exact agreement 0 by construction)."""
    return frozenset() if grade.source == GradeSource.AI_APPROVED else frozenset(given)


def load_examples(assignment_id: int) -> Examples:
    assignment = db.session.get(Assignment, assignment_id)
    if assignment is None:
        raise LookupError(f"assignment {assignment_id} does not exist")
    rows = db.session.execute(
        db.select(Submission, Grade)
        .join(Grade, Grade.submission_id == Submission.id)
        .where(Submission.assignment_id == assignment_id, Grade.source.in_(TRAINING_SOURCES))
        .order_by(Submission.id, Grade.created_at, Grade.id)
    ).all()
    latest: dict[int, tuple[Submission, Grade]] = {}
    for sub, grade in rows:
        latest[sub.id] = (sub, grade)  # ordered by time: the last one wins
    proposals = _proposals(assignment_id)
    lo, hi = assignment.score_min, assignment.score_max
    ex = Examples(texts=[], scores=[], score_min=lo, score_max=hi, traits=list(assignment.traits or []))
    trait_scales = {t["name"]: (t["min"], t["max"]) for t in ex.traits}
    for sub_id, (sub, grade) in sorted(latest.items()):
        text = grade.graded_text
        if not (text or "").strip():
            continue
        score = rescale(grade.score, grade.score_min, grade.score_max, lo, hi)
        ex.texts.append(text)
        ex.scores.append(whole_score(score, lo, hi))
        # A trait's scale given at grading time is not stored: a score outside the trait's
        # current range (the teacher narrowed it later) is clipped into it, not dropped. Its half
        # points go up, as the overall score's do.
        given = {k: v for k, v in (grade.trait_scores or {}).items() if k in trait_scales and v is not None}
        ex.trait_scores.append({k: whole_score(v, *trait_scales[k]) for k, v in given.items()})
        ex.trait_chosen.append(_trait_chosen(grade, given))
        ex.groups.append(sub.group_label)
        ex.submission_ids.append(sub_id)
        seen = _in_view(grade, proposals.get(sub_id, ()))
        ex.had_proposal.append(grade.source in (GradeSource.AI_APPROVED, GradeSource.AI_EDITED) or bool(seen))
        # The latest of a version's proposals in view (a revision scored again) is the one graded on.
        ex.proposed_by.append({version_id: float(proposed) for version_id, _, proposed in seen if version_id is not None})
    return ex
