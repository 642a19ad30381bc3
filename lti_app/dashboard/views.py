"""Dashboard pages: the overview, the training-progress JSON the page polls, and the teacher's
actions (train now, roll back to an earlier version, retry a dead-lettered gradebook update)."""
from __future__ import annotations

from flask import current_app, jsonify, render_template, request
from sqlalchemy.orm import load_only

from lti_app import worker_presence
from lti_app.auth import require_launch
from lti_app.coursework import access, anonymity, notices, roster
from lti_app.coursework.release_hint import release_hint
from lti_app.dashboard import bp, report, trait_report, wording
from lti_app.review import blind
from lti_app.events import record_event
from lti_app.extensions import db
from lti_app.locking import for_update
from lti_app.models import Assignment, DeadLetter, FeedbackMode, Grade, ModelVersion, Submission, User
from lti_app.review.decisions import pending_proposals
from lti_app.routing import MAX_ID

GRADEBOOK_QUEUE = "gradebook"
DEAD_SHOWN = 100   # the newest failed gradebook updates listed (as `worker.deadletters.list_dead_letters`)


def _dead_gradebook_updates(assignment_id: int) -> list[tuple[DeadLetter, str]]:
    """The failed gradebook updates not sent again yet, newest first, each with whose essay it was
    for. Picked in SQL: after the cap, 100 failed trainings would hide them all."""
    rows = db.session.scalars(db.select(DeadLetter).where(
        DeadLetter.assignment_id == assignment_id, DeadLetter.routing_key == GRADEBOOK_QUEUE,
        DeadLetter.requeued_at.is_(None)).order_by(DeadLetter.id.desc()).limit(DEAD_SHOWN)).all()
    return list(zip(rows, _concerns_of(rows)))


def _concerns_of(rows: list[DeadLetter]) -> list[str]:
    """Whose essay each failed gradebook update was for, when its message still says (grade id in
    the event payload) and the grade still exists; else "". One query for all of them."""
    grade_ids = [_grade_id(row) for row in rows]
    wanted = {grade_id for grade_id in grade_ids if grade_id is not None}
    found = db.session.execute(
        db.select(Grade.id, Submission, User, Assignment)
        .join(Submission, Grade.submission_id == Submission.id)
        .join(Assignment, Submission.assignment_id == Assignment.id)
        .outerjoin(User, Submission.user_id == User.id)
        .where(Grade.id.in_(wanted))
        .options(load_only(Submission.id, Submission.user_id, Submission.filename))).all() if wanted else []
    essays = {grade_id: (submission, user, assignment) for grade_id, submission, user, assignment in found}
    return [_essay_words(*essays[grade_id]) if grade_id in essays else "" for grade_id in grade_ids]


def _grade_id(row: DeadLetter) -> int | None:
    message = row.payload if isinstance(row.payload, dict) else {}
    inner = message.get("payload") if isinstance(message.get("payload"), dict) else message
    grade_id = inner.get("grade_id")
    # Beyond the column's integers the database refuses the query (a 500 instead of the page).
    return grade_id if isinstance(grade_id, int) and not isinstance(grade_id, bool) and 0 < grade_id <= MAX_ID \
        else None


def _essay_words(submission: Submission, user: User | None, assignment: Assignment) -> str:
    if anonymity.hides_names(assignment):
        return anonymity.essay_label(submission)
    who = (user.name or "").strip() if user is not None else ""
    essay = submission.filename or f"essay #{submission.id}"
    return f"{who} ({essay})" if who else essay


NOT_PASSED = "Not used: it did not pass the checks"
FILES_MISSING = "Cannot be used again: its saved files are missing"


def _rollback_blocked(versions: list[ModelVersion], current: ModelVersion | None) -> dict[int, str]:
    """{version id: why it cannot be put back, in the teacher's words} for every version other
    than the current one, checked as `versions.rollback` checks (so the page never offers a button
    that only fails). A version the gate turned down was never saved to serve: the worker's "no
    exported model on disk" said that in a developer's words."""
    from worker.ml import versions as ml_versions

    app = current_app._get_current_object()
    blocked = {}
    for v in versions:
        if current is not None and v.id == current.id:
            continue
        problem = ml_versions.why_unusable(app, v)
        if not problem:
            continue
        if v.status == "rejected" and not wording.passed_but_not_chosen(v):
            blocked[v.id] = NOT_PASSED
        elif "no exported model" in problem:
            blocked[v.id] = FILES_MISSING
        else:
            blocked[v.id] = f"Cannot be used again: {problem}"
    return blocked


def _no_worker_notice(assignment, training: dict) -> str:
    """Words for the work this assignment waits on that no healthy worker takes now: hand-ins to
    score and trainings while auto-feedback is on, a training the teacher asked for in any mode;
    "" when a worker takes it, or nothing waits on one."""
    wanted = set()
    if assignment.feedback_mode != FeedbackMode.OFF:
        wanted = {worker_presence.SCORING, worker_presence.TRAINING}
    elif training["requested"]:
        wanted = {worker_presence.TRAINING}
    return wording.no_worker(wanted - worker_presence.served())


@bp.get("/a/<int:assignment_id>")
@require_launch(grader=True)
def overview(assignment_id: int):
    from worker.handlers.training import min_graded, training_state

    assignment = access.assignment_in_course(assignment_id)
    versions = report.versions_of(assignment.id)
    current = db.session.get(ModelVersion, assignment.current_model_id) if assignment.current_model_id else None
    shown = current or (versions[0] if versions else None)
    state, training = training_state(assignment.id), report.training_status(assignment.id)
    trained_at = report.trained_times(assignment.id)
    newest = versions[0] if versions else None
    # The note explains the latest run's message, so it shows only beside that message.
    gate_note = (report.comparison_note(newest, current)
                 if newest is not None and training.get("model_version_id") == newest.id else "")
    dead, held = _dead_gradebook_updates(assignment.id), roster.held_grades(assignment)
    return render_template("dashboard/overview.html", assignment=assignment, current=current, shown=shown,
                           versions=versions, state=state, needed=min_graded(assignment), training=training,
                           trained_at=trained_at, last_trained=max(trained_at.values(), default=None)
                           or state.last_trained_at, gate_note=gate_note, metrics=report.held_out(shown),
                           charts=report.quality_charts(assignment, shown, versions),
                           pending=len(pending_proposals(assignment.id)), hint=release_hint(assignment),
                           blocked=_rollback_blocked(versions, current),
                           no_worker=_no_worker_notice(assignment, training),
                           trait_rows=trait_report.rows(shown), trait_min_n=trait_report.MIN_ESSAYS, trait_later=trait_report.measured_later(shown),
                           traits_unmeasured=trait_report.never_measured(assignment, shown), new_essays=trait_report.NEW_ESSAYS,
                           trait_withheld=trait_report.withheld_notice(assignment, current),
                           dead=dead, held=held, held_words=wording.held_grades(held, bool(dead)) if held else "",
                           blind_words=blind.dashboard_words(assignment))


@bp.get("/a/<int:assignment_id>/training.json")
@require_launch(grader=True, renews=False)
def training_json(assignment_id: int):
    assignment = access.assignment_in_course(assignment_id)
    response = jsonify(report.training_status(assignment.id))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/a/<int:assignment_id>/train")
@require_launch(grader=True)
def train_now(assignment_id: int):
    from worker.handlers.training import min_graded, training_state

    assignment = access.assignment_in_course(assignment_id)
    graded, needed = training_state(assignment.id).graded, min_graded(assignment)
    if graded < needed:   # what the worker checks too: otherwise "requested" here, "not due" there
        return notices.redirect_with("dashboard.overview", [(
            "error", f"Not trained: {graded} graded essay{'' if graded == 1 else 's'}, and this assignment needs "
                     f"{needed} first.")], assignment_id=assignment.id)
    # Two teachers (or tabs) asking at once would both pass the check below and queue two runs: the
    # assignment's row lock makes the second read the first one's request (FOR NO KEY UPDATE, which
    # graders' KEY SHARE locks do not wait for).
    db.session.execute(for_update(db.select(Assignment.id).where(Assignment.id == assignment.id), key_share=True))
    status = report.training_status(assignment.id)
    if status["active"] or status["asked"]:
        # A second request would wait for this run and then train again on nearly the same grades.
        return notices.redirect_with("dashboard.overview", [(
            "warning", "A training is already under way; its progress shows below. Grades that arrive meanwhile "
                    "count towards the next one.")], assignment_id=assignment.id)
    record_event("training.due", {"assignment_id": assignment.id, "reason": "manual"})
    db.session.commit()
    return notices.redirect_with("dashboard.overview", [("success", "Training requested. Progress shows below.")],
                                 assignment_id=assignment.id)


@bp.post("/a/<int:assignment_id>/rollback")
@require_launch(grader=True)
def rollback(assignment_id: int):
    from worker.ml import versions

    assignment = access.assignment_in_course(assignment_id)
    try:
        to_version = int(request.form.get("version", ""))
    except ValueError:
        to_version = None
    if to_version is None or not 0 < to_version <= MAX_ID:   # beyond the column's integers: a 500
        return notices.redirect_with("dashboard.overview", [("error", "Choose a version to go back to.")],
                                     assignment_id=assignment.id)
    try:
        restored = versions.rollback(current_app._get_current_object(), assignment.id, to_version)
    except ValueError as exc:
        notice = ("error", f"Nothing changed: {exc}.")
    else:
        notice = ("success", f"Version {restored.version} scores new essays again.")
    db.session.expire_all()
    return notices.redirect_with("dashboard.overview", [notice], assignment_id=assignment.id)


@bp.post("/a/<int:assignment_id>/dead/<int:dead_letter_id>/retry")
@require_launch(grader=True)
def retry_dead_letter(assignment_id: int, dead_letter_id: int):
    from worker.deadletters import requeue

    assignment = access.assignment_in_course(assignment_id)
    row = db.session.get(DeadLetter, dead_letter_id)
    if row is None or row.assignment_id != assignment.id or row.routing_key != GRADEBOOK_QUEUE:
        return notices.redirect_with("dashboard.overview", [("error", "That gradebook update is not part of "
                                                                      "this assignment.")], assignment_id=assignment.id)
    try:
        requeue(row.id)
    except ValueError as exc:
        notice = ("error", str(exc))
    else:
        notice = ("success", "The gradebook update was queued to be sent again; it is no longer listed "
                             "here unless it fails again.")
    return notices.redirect_with("dashboard.overview", [notice], assignment_id=assignment.id)
