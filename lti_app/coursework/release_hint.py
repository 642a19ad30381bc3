"""How the confidence threshold fares on the assignment's recent AI proposals: the line beside the
threshold (settings page, dashboard). A course model on a few dozen grades is often less sure than
the default 60%, and a teacher who switched auto-release on then saw nothing reach students and no
reason why. Auto-released grades leave out the trait scores of the model in service that did not
pass their check, or were never measured (`worker.ml.trait_checks.withheld`): `withheld` names
them, so the line does not promise trait scores students will not get."""
from __future__ import annotations

from dataclasses import dataclass

from lti_app.extensions import db
from lti_app.models import AiProposal, Assignment, ModelVersion, Submission

RECENT = 50   # enough to be a fair sample, recent enough to be the current model's


@dataclass(frozen=True)
class ReleaseHint:
    proposals: int      # recent proposals looked at
    reached: int        # of those, usual essays at or above the threshold: auto-release sends these
    highest: float | None   # the highest confidence among the usual ones (0..1)
    withheld: tuple[str, ...] = ()   # traits whose scores auto-released grades leave out


def release_hint(assignment: Assignment, threshold: float | None = None) -> ReleaseHint | None:
    """None before the first proposal, unless trait scores are left out (then `proposals` is 0: a
    teacher switching auto-release on reads it at once, not after the first hand-ins). Unusual
    essays count as not reached: they always wait for the teacher, whatever the threshold
    (`worker.handlers.scoring._auto_release`)."""
    threshold = assignment.confidence_threshold if threshold is None else threshold
    rows = db.session.execute(db.select(AiProposal.confidence, AiProposal.unusual)
                              .join(Submission, AiProposal.submission_id == Submission.id)
                              .where(Submission.assignment_id == assignment.id)
                              .order_by(AiProposal.id.desc()).limit(RECENT)).all()
    if not rows:
        withheld = _withheld(assignment)
        return ReleaseHint(proposals=0, reached=0, highest=None, withheld=withheld) if withheld else None
    usual = [c for c, unusual in rows if not unusual]
    return ReleaseHint(proposals=len(rows), reached=sum(1 for c in usual if c >= threshold),
                       highest=max(usual, default=None), withheld=_withheld(assignment))


def _withheld(assignment: Assignment) -> tuple[str, ...]:
    from lti_app.dashboard.trait_report import withheld

    current = db.session.get(ModelVersion, assignment.current_model_id) if assignment.current_model_id else None
    return tuple(withheld(assignment, current)) if current is not None else ()
