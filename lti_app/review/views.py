"""Review pages: the queue of pending AI proposals (several can be approved at once) and one
proposal with approve / edit forms; for a revised essay that page also shows the grade and
comment the earlier version got, as the grading page does. An essay of the blind check
(`review.blind`) is listed without its proposal and sent to the grading page: the teacher grades
it first, so it is never approved from the list or its own page."""
from __future__ import annotations

import logging

from flask import abort, render_template, request
from marshmallow import ValidationError
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import load_only

from lti_app import worker_presence
from lti_app.auth import require_launch
from lti_app.coursework import access, anonymity, grade_in_lms, lms_sync, notices, roster, version_diff
from lti_app.coursework.grading import deleted_meanwhile
from lti_app.coursework.restated_traits import restated_words
from lti_app.coursework.schemas import grade_schema
from lti_app.extensions import db
from lti_app.lms import gradebook
from lti_app.models import AiProposal, Assignment, Grade, ModelVersion, Submission, User
from lti_app.review import blind, bp
from lti_app.review.decisions import PENDING, AlreadyDecided, decide, pending_proposals, queued_proposal, restated
from lti_app.routing import MAX_ID

log = logging.getLogger(__name__)

BLIND_FIRST = ("Grade this essay yourself first: it is one of the essays you grade without seeing Gradeloop's "
               "proposal, a blind check of the model. The proposal shows here once your grade is saved.")


def _student_names(assignment, proposals: list[AiProposal]) -> dict[int, str]:
    # One query for every row: a class's queue holds a proposal per student. Not the essays'
    # texts: the queue shows none, and a class's texts are megabytes.
    rows = db.session.execute(db.select(Submission, User).outerjoin(User, Submission.user_id == User.id)
                              .where(Submission.id.in_({p.submission_id for p in proposals}))
                              .options(load_only(Submission.id, Submission.user_id))).all()
    return {sub.id: anonymity.shown_name(assignment, sub, (user.name or user.email or user.sub) if user
                                         else "Unknown student") for sub, user in rows}


def _revised(assignment, proposals: list[AiProposal]) -> set[int]:
    """The submissions among `proposals` that are a revision: their grade is still the earlier
    version's (the essays list's "Revised"). Approving such a proposal replaces a grade the student
    already has, so the queue says so."""
    return roster.revised_essays(assignment.id) & {p.submission_id for p in proposals}


def _unchecked(assignment, proposals: list[AiProposal]) -> dict[int, list[str]]:
    """{proposal id: the traits whose scores the version that made it has not been shown to give as
    the teacher does}: auto-release leaves those out (`worker.handlers.scoring`, which asks the
    proposal's own version: a pending proposal outlives a new version or a rollback), while
    approving gives them to the student, so the queue and the proposal page mark them."""
    from lti_app.dashboard.trait_report import withheld

    if not assignment.traits:
        return {}
    by_version: dict[int | None, list[str]] = {None: []}   # made by hand, no verdict (as the worker)
    out = {}
    for p in proposals:
        if p.model_version_id not in by_version:
            by_version[p.model_version_id] = withheld(assignment, db.session.get(ModelVersion, p.model_version_id))
        out[p.id] = by_version[p.model_version_id] if p.trait_scores else []
    return out


@bp.get("/a/<int:assignment_id>")
@require_launch(grader=True)
def queue(assignment_id: int):
    assignment = access.assignment_in_course(assignment_id)
    proposals = pending_proposals(assignment.id)
    hidden = blind.hidden(assignment, proposals)
    # Blind essays last, in the order they came: the queue's order (least confident first) would
    # otherwise tell the teacher how sure the model is about them before they grade.
    proposals = ([p for p in proposals if p.id not in hidden]
                 + sorted((p for p in proposals if p.id in hidden), key=lambda p: (p.created_at, p.id)))
    # The page sends an approved grade to the LMS itself; the course model learns from it only
    # when a worker trains (`worker_presence`), so the page promises that only while one does.
    return render_template("review/queue.html", assignment=assignment, proposals=proposals, blind=hidden,
                           names=_student_names(assignment, proposals), revised=_revised(assignment, proposals),
                           trains=worker_presence.serves(worker_presence.TRAINING), unchecked=_unchecked(assignment, proposals))


@bp.post("/a/<int:assignment_id>/approve")
@require_launch(grader=True)
def approve_selected(assignment_id: int):
    """Approve the ticked proposals as proposed, each exactly as its own page's "Approve" would (so
    one decided meanwhile, or made for an older version, is skipped and said). An essay flagged as
    unusual is never approved from the list: it has to be opened and read, nor one of the blind
    check: the teacher grades it first."""
    assignment = access.assignment_in_course(assignment_id)
    teacher_id = access.launch().user_id
    raw_ids = request.form.getlist("proposal")
    if not all(raw.isascii() and raw.isdigit() and len(raw) <= 10 and int(raw) <= MAX_ID for raw in raw_ids):
        abort(400, description="Bad proposal id.")
    if not raw_ids:
        return notices.redirect_with("review.queue", [("warning", "Tick at least one proposal to approve.")],
                                     assignment_id=assignment.id)
    # every id checked before any proposal is decided: a foreign one changes nothing
    items = [_proposal_in(assignment, pid) for pid in dict.fromkeys(int(raw) for raw in raw_ids)]
    approved, skipped, failed = [], 0, 0
    hidden_ids = blind.hidden(assignment, items)
    hidden = [item for item in items if item.id in hidden_ids]
    to_decide = [item for item in items if not item.unusual and item not in hidden]
    unusual = len(items) - len(to_decide) - len(hidden)
    ids = [item.id for item in to_decide]   # read now: after a failed statement the rows are expired
    for done, item in enumerate(to_decide):
        try:
            approved.append(decide(assignment, item, None, teacher_id).id)
            db.session.commit()
        except AlreadyDecided:
            db.session.rollback()
            skipped += 1
        except SQLAlchemyError:
            # Each approval is its own transaction: those before stay approved (and their grades
            # are in the outbox), this one and the rest stay pending. Say so instead of a 500 page
            # that leaves the teacher guessing which were saved.
            db.session.rollback()
            log.exception("event=bulk_approval_failed assignment_id=%s proposal_id=%s", assignment_id, ids[done])
            failed = len(to_decide) - done
            break
    words = [f"{len(approved)} proposal{'s' if len(approved) != 1 else ''} approved."]
    if failed:
        words.append(f"{failed} could not be saved (a database error) and {'are' if failed != 1 else 'is'} "
                     "still waiting in the queue: try again in a moment.")
    if skipped:
        words.append(f"{skipped} had been graded, decided or replaced by a new version in the meantime and "
                     f"{'were' if skipped != 1 else 'was'} left alone.")
    if unusual:
        words.append(f"{unusual} unusual essay{'s were' if unusual != 1 else ' was'} not approved: open "
                     f"{'them' if unusual != 1 else 'it'} to read first.")
    if hidden:
        words.append(f"{len(hidden)} essay{'s' if len(hidden) != 1 else ''} of the blind check "
                     f"{'were' if len(hidden) != 1 else 'was'} not approved: grade {'them' if len(hidden) != 1 else 'it'} "
                     "yourself first.")
    found = [("error" if failed else "success" if approved else "warning", " ".join(words))]
    if failed:  # the database is failing: the worker sends the approved grades from the outbox
        return notices.redirect_with("review.queue", found, assignment_id=assignment.id)
    # Only grades the LMS takes: a teacher's own test essay's grade is kept here, not "sent".
    just_approved = set(approved)
    for_lms = [g.id for g in gradebook.unposted_grades(assignment.id) if g.id in just_approved]
    if for_lms:
        found.append(lms_sync.push_grades_now(assignment_id, for_lms).notice())
        if db.session.get(Assignment, assignment_id) is None:   # the course's data deleted meanwhile
            return deleted_meanwhile(assignment_id)
    return notices.redirect_with("review.queue", found, assignment_id=assignment_id)


def _proposal_in(assignment, proposal_id: int) -> AiProposal:
    proposal = db.session.get(AiProposal, proposal_id)
    submission = db.session.get(Submission, proposal.submission_id) if proposal else None
    if submission is None or submission.assignment_id != assignment.id:
        abort(404, description="This proposal is not part of this assignment.")
    return proposal


@bp.route("/a/<int:assignment_id>/p/<int:proposal_id>", methods=["GET", "POST"])
@require_launch(grader=True)
def proposal(assignment_id: int, proposal_id: int):
    assignment = access.assignment_in_course(assignment_id)
    item = _proposal_in(assignment, proposal_id)
    # Only while the essay waits for its grade: once graded (here or on the grading page, which
    # leaves the proposal pending) the proposal is no secret, and the link shows it as any other.
    if blind.hides(assignment, item) and item.status == PENDING and queued_proposal(item.submission_id) is not None:
        return notices.redirect_with("coursework.grade", [("warning", BLIND_FIRST)], assignment_id=assignment.id,
                                     submission_id=item.submission_id)
    errors: dict = {}
    conflict = None
    if request.method == "POST":
        data = None
        try:
            data = None if request.form.get("action") == "approve" else grade_schema(assignment).load(request.form)
            grade = decide(assignment, item, data, access.launch().user_id)
        except ValidationError as exc:
            errors = exc.messages
        except AlreadyDecided as exc:
            db.session.rollback()
            if data is None:
                return notices.redirect_with("review.queue", [("error", str(exc))], assignment_id=assignment.id)
            # The teacher's own edits: shown back (409) rather than dropped with a redirect.
            conflict = str(exc)
            db.session.refresh(item)
        else:
            db.session.commit()
            grade_id = grade.id
            problem = lms_sync.push_grade_now(grade_id)
            if db.session.get(Grade, grade_id) is None:   # its essay was deleted meanwhile
                return deleted_meanwhile(assignment_id)
            what = "approved" if item.status == "approved" else "saved with your changes"
            newer = gradebook.latest_grade(grade.submission_id)
            lms_state = grade_in_lms.state_of(grade) if problem else None
            if newer is not None and newer.id != grade.id:   # a grader saved another meanwhile
                notice = ("warning", grade_in_lms.superseded_words(what, to_lms=True))
            elif not problem:
                notice = ("success", f"Grade {what} and sent to the student and the LMS gradebook.")
            elif lms_state == grade_in_lms.NOT_SENT:   # as the grading page says it
                notice = ("error", f"Grade {what}, but the LMS gradebook did not take it: {problem}")
            else:
                notice = ("warning", grade_in_lms.saved_words(lms_state))
            changed = restated(assignment, item, data)[1] if data is not None else []
            return notices.redirect_with("review.queue", [notice, *restated_words(changed)],
                                         assignment_id=assignment.id)
    submission = db.session.get(Submission, item.submission_id)
    writer = db.session.get(User, submission.user_id) if submission.user_id else None
    # A revision: the grade its earlier version got, which this proposal's grade would replace.
    earlier = gradebook.latest_grade(submission.id)
    shown = anonymity.redactor(assignment, writer)
    values = dict(request.form) if errors or conflict else {
        "score": f"{item.score:g}", "comment": item.feedback,
        **{f"trait:{k}": f"{v:g}" for k, v in (item.trait_scores or {}).items() if v is not None}}
    return render_template("review/proposal.html", assignment=assignment, proposal=item, submission=submission,
                           student=_student_names(assignment, [item])[item.submission_id], values=values,
                           errors=errors, conflict=conflict, shown=shown,
                           changes=version_diff.since_graded(earlier, submission.text, shown), unchecked=_unchecked(assignment, [item]).get(item.id, []),
                           earlier=earlier if earlier is not None and earlier.on_earlier_version else None), \
        409 if conflict else 400 if errors else 200
