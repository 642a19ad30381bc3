"""The blind check of the model in service: about one hand-in in five (`SHARE`) that a course model
proposes a grade for is graded by the teacher before the proposal is shown.

Approving proposals as they stand gives the model its own scores as "teacher grades"; the next
training then tests a new version on those, where the model in service agrees by construction,
and a better version can never beat it. Grades given blind are the teacher's own judgement of
essays the model scored, so training holds them out first (`Examples.had_proposal` is false for
them, `worker.ml.training_set`) and the dashboard can say how well the model agreed with them.

Which essays are blind is a keyed hash of the assignment and the submission: the same on every page
load and in the worker (a revision of an essay already graded blind is not hidden again: its page
showed the model's proposal once the grade was saved); nothing about the essay (its
score, its confidence) decides it, so in review mode the sample is a fair one. With auto-release a
confident blind essay is still released (the check adds no grading), so the teacher grades blind
only the essays below the release threshold (or unusual ones): fair between two models, harder than
average, and the dashboard says so. A proposal made without a model version (by hand) measures no
model: nothing to hide. `Assignment.blind_check` turns it off per assignment.

Only what the teacher has not seen can be hidden: a proposal made before the check was last turned
on (`Assignment.blind_check_since`: the upgrade that brought the check, or a teacher ticking the
box mid-term) was in the queue already, and an essay whose earlier version got an AI grade
(auto-released, or approved while the check was off) shows that grade on the grading page.

Whether a grade was given blind is stored on it (`Grade.blind`), set only when the grading page
hid the proposal and still would on saving: turning the setting off or on later never changes
what a grade already was.
"""
from __future__ import annotations

import hashlib

from lti_app.coursework.submissions import AI_SOURCES
from lti_app.extensions import db
from lti_app.models import AiProposal, Assignment, FeedbackMode, Grade, Submission
from lti_app.timestamps import as_utc

SHARE = 0.2
_KEY = b"gradeloop-blind-check"


def chosen(assignment_id: int, submission_id: int) -> bool:
    """The essay is one of the blind sample (about `SHARE` of them)."""
    digest = hashlib.blake2b(f"{assignment_id}:{submission_id}".encode(), key=_KEY, digest_size=8).digest()
    return int.from_bytes(digest, "big") < SHARE * 2 ** 64


def hidden(assignment: Assignment, proposals) -> set[int]:
    """The ids of `proposals` whose essay the teacher must grade before seeing them: no review page,
    no bulk approval (one query for a whole queue, `_model_graded`). Auto-release still sends a
    confident one (`worker.handlers.scoring._auto_release`): the check changes what the teacher
    sees of essays they grade anyway, never how many they grade."""
    candidates = [p for p in proposals if p is not None and assignment.blind_check and p.model_version_id is not None
                  and chosen(assignment.id, p.submission_id) and _made_since_on(assignment, p)]
    shown = _model_graded({p.submission_id for p in candidates})
    return {p.id for p in candidates if p.submission_id not in shown}


def hides(assignment: Assignment, proposal: AiProposal | None) -> bool:
    """`hidden` for one proposal."""
    return proposal is not None and proposal.id in hidden(assignment, [proposal])


def _made_since_on(assignment: Assignment, proposal: AiProposal) -> bool:
    """The proposal was made at or after the check was last turned on (one not yet saved is new)."""
    since = assignment.blind_check_since
    return since is None or proposal.created_at is None or as_utc(proposal.created_at) >= as_utc(since)


def _model_graded(submission_ids: set[int]) -> set[int]:
    """Those of the essays that have an AI grade (of an earlier version, as a rule): the grading
    page shows it, so the model's view of the essay is in front of the teacher already. Or a
    grade given blind: once saved, its page showed what the model proposed, and a revision is
    nearly the same text."""
    if not submission_ids:
        return set()
    return set(db.session.scalars(db.select(Grade.submission_id).where(
        Grade.submission_id.in_(submission_ids), db.or_(Grade.source.in_(AI_SOURCES), Grade.blind.is_(True)))))


def graded_blind(assignment: Assignment, submission_id: int, hidden_id: str | None) -> bool:
    """A grade saved now counts as given blind: the grading page hid proposal `hidden_id` (its form
    says so) and it is this essay's and would still be hidden. A page opened before the setting was
    turned on showed the proposal and sends no id; one opened before it was turned off hid it, but
    counting such a grade as seen only costs the check one essay."""
    if not (hidden_id or "").isdigit() or len(hidden_id) > 10:
        return False
    proposal = db.session.get(AiProposal, int(hidden_id))
    return proposal is not None and proposal.submission_id == submission_id and hides(assignment, proposal)


def revealed(current: Grade | None) -> AiProposal | None:
    """For a grade given blind, the proposal it hid (the newest made before it), to show the teacher
    after the fact what the model had proposed."""
    if current is None or not current.blind:
        return None
    return db.session.scalars(db.select(AiProposal)
                              .where(AiProposal.submission_id == current.submission_id,
                                     AiProposal.created_at <= current.created_at)
                              .order_by(AiProposal.created_at.desc(), AiProposal.id.desc()).limit(1)).first()


def agreement(assignment: Assignment) -> dict:
    """{"grades": how many of the assignment's essays were graded blind, "compared": how many of those
    the model in service had proposed a score for, "exact" / "near": how many of its scores were the
    teacher's / within one point}: the honest figure of how well it agrees with the teacher. Each
    essay's latest blind grade counts, even if the teacher changed it after seeing the proposal."""
    rows = db.session.execute(db.select(Grade.id, Grade.submission_id, Grade.score, Grade.created_at)
                              .join(Submission, Grade.submission_id == Submission.id)
                              .where(Submission.assignment_id == assignment.id, Grade.blind.is_(True))).all()
    latest = {}
    for row in rows:
        if row.submission_id not in latest or (row.created_at, row.id) > (latest[row.submission_id].created_at,
                                                                          latest[row.submission_id].id):
            latest[row.submission_id] = row
    exact = near = compared = 0
    if assignment.current_model_id is not None and latest:
        proposed = db.session.execute(db.select(AiProposal.submission_id, AiProposal.score, AiProposal.created_at)
                                      .where(AiProposal.submission_id.in_(latest),
                                             AiProposal.model_version_id == assignment.current_model_id)
                                      .order_by(AiProposal.created_at, AiProposal.id)).all()
        before = {}
        for sub_id, score, created in proposed:   # the newest made before the grade: the one it hid
            if created <= latest[sub_id].created_at:
                before[sub_id] = score
        compared = len(before)
        gaps = [abs(float(score) - float(latest[sub_id].score)) for sub_id, score in before.items()]
        exact, near = sum(1 for gap in gaps if gap == 0), sum(1 for gap in gaps if gap <= 1)
    return {"grades": len(latest), "compared": compared, "exact": exact, "near": near}


# Below this many blind grades compared, one essay moves the figure by more than ten points.
MIN_COMPARED = 10


def dashboard_words(assignment: Assignment) -> str:
    """The dashboard's line on the blind check: how many blind grades, and from `MIN_COMPARED` on,
    how often the model in service proposed the teacher's score. Empty when there are none."""
    found = agreement(assignment)
    if not found["grades"]:
        return ""
    said = f"{found['grades']} essay{'s' if found['grades'] != 1 else ''} graded blind (before seeing the proposal)."
    if found["compared"] < MIN_COMPARED:
        return said + f" With {MIN_COMPARED} from the model in service, this page says how well it agrees with you."
    exact, near = (f"{round(100 * found[n] / found['compared'])}%" for n in ("exact", "near"))
    said += (f" On the {found['compared']} the model in service proposed a score for, it gave your score on "
             f"{exact} and was within one point on {near}.")
    if assignment.feedback_mode == FeedbackMode.AUTO_RELEASE:   # the confident ones went out unseen
        said += (" With auto-release, these are only the essays it was less sure of, those below your release "
                 "threshold: it sent the others itself, so this says little about those.")
    return said
