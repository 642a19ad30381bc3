"""Teachers return graded essays for revision: one essay from its grading page, or every graded
essay of an assignment at once for a class-wide redraft. A returned essay (`RETURNED`) can be
replaced by the student even where the assignment allows no second version; until then the
teacher can take the return back. The grade stays where it is: the student keeps reading it as
feedback on the version they revise, the LMS gradebook keeps it until the new version is graded,
and training keeps it paired with the text it was given on (`submissions.keep_graded_text`).
The LMS is told of a return and of its taking back beside the grade (`lms.revision_notice`,
through a `gradebook.sync` event; a single return also tries at once).
"""
from __future__ import annotations

import logging

from flask import request

from lti_app.auth import require_launch
from lti_app.coursework import access, bp, lms_quiet, lms_sync, notices
from lti_app.events import record_event
from lti_app.extensions import db
from lti_app.lms.gradebook import is_grader
from lti_app.lms.revision_notice import push_revision_state
from lti_app.models import Assignment, Submission, SubmissionStatus
from lti_app.locking import for_update

log = logging.getLogger("gradeloop.coursework.revision")


def why_not_returnable(assignment: Assignment, submission: Submission) -> str | None:
    if submission.user_id is None:
        return "Imported essays have no student to revise them."
    if submission.status != SubmissionStatus.GRADED:
        return "Only a graded essay can be returned for revision."
    if is_grader(assignment.course_id, submission.user_id):
        return "This essay belongs to a teacher of the course."
    return None


def _tell_the_lms(assignment: Assignment, submission: Submission) -> None:
    """The durable path: the worker posts the note (caller commits)."""
    record_event("gradebook.sync", {"assignment_id": assignment.id, "submission_id": submission.id,
                                    "revision": True})


def _lock(submission_ids: list[int]) -> list[Submission]:
    """Read the rows locked (PostgreSQL), as a hand-in or a grade save does, so a return cannot
    interleave with the student's hand-in or a co-grader's save of the same essay."""
    if not submission_ids:
        return []
    return list(db.session.scalars(for_update(db.select(Submission).where(Submission.id.in_(submission_ids))
                                              .order_by(Submission.id))
                                   .execution_options(populate_existing=True)))


@bp.post("/a/<int:assignment_id>/essays/<int:submission_id>/return")
@require_launch(grader=True)
def return_essay(assignment_id: int, submission_id: int):
    assignment = access.assignment_in_course(assignment_id)
    (submission,) = _lock([access.submission_in_assignment(assignment, submission_id).id])
    undo = request.form.get("undo") == "1"
    if undo:
        if submission.status != SubmissionStatus.RETURNED:
            notice = ("error", "The student has already handed in a new version (or the essay was graded "
                               "again), so there is no return to take back.")
        else:
            submission.status = SubmissionStatus.GRADED
            _tell_the_lms(assignment, submission)
            notice = ("success", "Return taken back: the essay is graded again and cannot be replaced.")
    else:
        problem = why_not_returnable(assignment, submission)
        if problem:
            notice = ("error", problem)
        else:
            submission.status = SubmissionStatus.RETURNED
            _tell_the_lms(assignment, submission)
            notice = ("success", "Returned for revision. The student can now hand in a new version; "
                                 "the current grade stays in the LMS gradebook, with a note saying so, "
                                 "until you grade the new one.")
    db.session.commit()
    if notice[0] == "success":
        # now if the LMS answers; else the worker
        lms_sync.inline(lms_quiet.platform_of_submission(submission.id), push_revision_state, submission.id)
    log.info("event=essay_%s submission_id=%s", "return_undone" if undo else "returned", submission.id)
    return notices.redirect_with("coursework.grade", [notice], assignment_id=assignment.id,
                                 submission_id=submission.id)


@bp.post("/a/<int:assignment_id>/return-all")
@require_launch(grader=True)
def return_all(assignment_id: int):
    """Every graded student essay (or, with undo, every return not yet answered by a new version)."""
    assignment = access.assignment_in_course(assignment_id)
    undo = request.form.get("undo") == "1"
    wanted = SubmissionStatus.RETURNED if undo else SubmissionStatus.GRADED
    ids = db.session.scalars(db.select(Submission.id).filter_by(assignment_id=assignment.id, status=wanted)
                             .where(Submission.user_id.is_not(None))).all()
    changed = 0
    for submission in _lock(list(ids)):
        if submission.status != wanted:   # changed between the two reads
            continue
        if undo:
            submission.status = SubmissionStatus.GRADED
        elif why_not_returnable(assignment, submission) is None:
            submission.status = SubmissionStatus.RETURNED
        else:
            continue
        _tell_the_lms(assignment, submission)   # the worker posts them: a class is too many for a click
        changed += 1
    db.session.commit()
    essays = f"{changed} essay{'s' if changed != 1 else ''}"
    if undo:
        notice = ("success", f"Return taken back for {essays}.")
    elif changed:
        notice = ("success", f"{essays[:1].upper() + essays[1:]} returned for revision. Students see their "
                             "feedback and can hand in a new version.")
    else:
        notice = ("warning", "No graded student essays to return.")
    log.info("event=essays_%s assignment_id=%s count=%s", "return_undone" if undo else "returned",
             assignment.id, changed)
    return notices.redirect_with("coursework.submissions", [notice], assignment_id=assignment.id)
