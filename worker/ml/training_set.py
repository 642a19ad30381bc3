"""Build a course's training set from the database: every submission's latest grade that counts
as a teacher's judgement (teacher, import, AI approved/edited; never auto-released AI grades),
paired with the text it was given on (a returned essay's grade keeps the version it graded).

Grades given on another scale (the teacher changed the assignment's range later) are mapped
linearly onto the current scale. A target (the overall score, each trait) whose grades are often
in half points (`HALF_POINT_SHARE`) trains on the doubled scale (`Examples.steps`: 3.5 trains as 7
on 2..12), so its model gives half points too; otherwise half points go up (4.5 trains as 5:
Python's `round` sent 3.5 and 4.5 both to 4). Each essay also records which trait scores judge
a trait (`Examples.trait_chosen`): not those of a proposal approved as it stood, the model's own;
and which model versions' proposals were in view when it was graded (`Examples.proposed_by`).
Needs an app context.
"""
from __future__ import annotations

import math

from lti_app.extensions import db
from lti_app.models import TRAINING_SOURCES, AiProposal, Assignment, Grade, GradeSource, Submission
from worker.ml.examples import Examples, Target

# From this share of a target's grades in fractions (after the scale mapping) on, the teacher is
# taken to grade that target in half points. ELLIPSE-style rubrics give 40% halves overall; a
# teacher who grades in whole points and splits a rare borderline essay gives a few percent. At a
# fifth, halves are a habit, and rounding them up moved the model about +0.3 SD above the teacher.
HALF_POINT_SHARE = 0.2
# A target whose model in service gives half points goes back to whole points only below this
# share: deciding afresh at 20% each time flipped a teacher near the line between trainings (one
# with 15% halves, retrained every 20 grades, changed step at 9% of trainings, 18% of courses back
# and forth; with 10% here 1.7% and none back and forth: docs/models.md, "Half-point scales").
WHOLE_POINT_SHARE = 0.1


def rescale(value: float, lo: int, hi: int, new_lo: int, new_hi: int) -> float:
    if (lo, hi) == (new_lo, new_hi) or hi <= lo:
        return float(value)
    return new_lo + (float(value) - lo) * (new_hi - new_lo) / (hi - lo)


def whole_score(value: float, lo: int, hi: int) -> int:
    """`value` as a whole score in lo..hi, halves going up (Python's `round` takes 3.5 and 4.5 to 4)."""
    return min(hi, max(lo, math.floor(value + 0.5)))


def _is_fraction(value: float) -> bool:
    return abs(value - round(value)) > 1e-9


def _step(values, current: float | None = None) -> float:
    """0.5 when the teacher grades a target in half points, else 1: from `HALF_POINT_SHARE` of its
    `values` not whole numbers on, or, when the model in service gives half points (`current` 0.5),
    until fewer than `WHOLE_POINT_SHARE` are (no values: the model in service's step stays)."""
    values = list(values)
    if not values:
        return 1.0 if current is None else float(current)
    share = sum(1 for v in values if _is_fraction(float(v))) / len(values)
    return 0.5 if share >= (WHOLE_POINT_SHARE if current == 0.5 else HALF_POINT_SHARE) else 1.0


def steps_in_service(meta: dict | None) -> dict | None:
    """{target name: step} of the version in service (its meta.json; a target without a step is
    whole-point), None without one: what `load_examples`' `current_steps` takes."""
    if not meta:
        return None
    return {str(t["name"]): float(t.get("step", 1)) for t in meta.get("targets") or []}


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


def load_examples(assignment_id: int, current_steps: dict | None = None) -> Examples:
    """The course's training set. `current_steps`: {target name: step} of the model in service
    (`steps_in_service`), which a target keeps unless its share of halves is clearly past the line
    (`_step`); None, or a target it does not name: the `HALF_POINT_SHARE` rule alone."""
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
    traits = list(assignment.traits or [])
    trait_scales = {t["name"]: (t["min"], t["max"]) for t in traits}
    kept = []   # (submission, grade, overall score on the current scale, {trait: given score})
    for sub_id, (sub, grade) in sorted(latest.items()):
        if not (grade.graded_text or "").strip():
            continue
        # A trait's scale given at grading time is not stored: a score outside the trait's
        # current range (the teacher narrowed it later) is clipped into it, not dropped.
        given = {k: v for k, v in (grade.trait_scores or {}).items() if k in trait_scales and v is not None}
        kept.append((sub, grade, rescale(grade.score, grade.score_min, grade.score_max, lo, hi), given))
    # Judged on the teacher's own choices (`_chosen`: not a model's proposal approved as it stood,
    # a whole-point model's approvals made a half-point teacher whole and a half-point model's kept
    # a course half-point), given on the current range (a range changed later, 1-5 to 1-10, maps
    # whole points to fractions, 3 -> 5.5, that are no habit of the teacher's).
    chosen = [(grade, score, given) for _, grade, score, given in kept
              if _chosen(grade, proposals.get(grade.submission_id, ()))]
    as_given = [score for grade, score, _ in chosen if (grade.score_min, grade.score_max) == (lo, hi)]
    current = current_steps or {}
    steps = {"overall": _step(as_given or [score for _, score, _ in chosen], current.get("overall"))}
    steps.update({name: _step((g[name] for *_, g in chosen if name in g), current.get(name))
                  for name in trait_scales})
    steps = {name: step for name, step in steps.items() if step != 1}
    overall = _target("overall", lo, hi, steps)
    targets = {name: _target(name, a, b, steps) for name, (a, b) in trait_scales.items()}
    ex = Examples(texts=[], scores=[], score_min=overall.lo, score_max=overall.hi, steps=steps,
                  traits=[{**t, "min": targets[t["name"]].lo, "max": targets[t["name"]].hi} for t in traits])
    for sub, grade, score, given in kept:
        ex.texts.append(grade.graded_text)
        ex.scores.append(overall.units(score))
        ex.trait_scores.append({k: targets[k].units(v) for k, v in given.items()})
        ex.trait_chosen.append(_trait_chosen(grade, given))
        ex.groups.append(sub.group_label)
        ex.submission_ids.append(sub.id)
        # A grade given blind (lti_app/review/blind.py): the grading page hid the proposals.
        seen = [] if grade.blind else _in_view(grade, proposals.get(sub.id, ()))
        ex.had_proposal.append(grade.source in (GradeSource.AI_APPROVED, GradeSource.AI_EDITED) or bool(seen))
        # The latest of a version's proposals in view (a revision scored again) is the one graded on.
        ex.proposed_by.append({version_id: float(proposed) for version_id, _, proposed in seen if version_id is not None})
    return ex


def _chosen(grade: Grade, proposals) -> bool:
    """The grade's score is the teacher's choice: not an approved proposal's, nor an edited one's
    whose score the teacher kept (the latest proposal in view)."""
    if grade.source == GradeSource.AI_APPROVED:
        return False
    seen = _in_view(grade, proposals)
    return not (grade.source == GradeSource.AI_EDITED and seen and float(seen[-1][2]) == float(grade.score))


def _target(name: str, lo: int, hi: int, steps: dict) -> Target:
    """The target `name` of the assignment's range lo..hi, its range in training units."""
    step = steps.get(name, 1.0)
    return Target(name, round(lo / step), round(hi / step), step)
