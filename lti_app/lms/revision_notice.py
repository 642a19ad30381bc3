"""Telling the LMS gradebook where a revision stands, so the student learns it there too.

A return for revision, its taking back, and the student's new version change no grade: the LMS
keeps the grade it has (a score without `scoreGiven` would clear it). So the current grade is
posted again, unchanged and `FullyGraded`, with a note in the comment and the AGS activity
progress (`InProgress` while the student revises). Posted only once the grade itself is in the
LMS (`push_grade` then calls this for a return made before its post went out), with the time
of the post as the AGS timestamp, which a later grade's creation time is newer than.

Comments differ between LMSs: Canvas adds every score's comment to the submission's comments, so
it gets the note alone (the teacher's comment is already there); Moodle and others replace the
grade's feedback, so they get the note and the teacher's comment. `Submission.lms_notice` holds
the last state posted, so a redelivered event posts nothing twice.
"""
from __future__ import annotations

from lti_app.extensions import db
from lti_app.lms import ags
from lti_app.models import Course, Grade, Platform, Submission, SubmissionStatus
from lti_app.models.base import utcnow

RETURNED = "returned"
TAKEN_BACK = "taken_back"
REVISED = "revised"

NOTES = {
    RETURNED: "Returned for revision: open the assignment, read the feedback and hand in a new version.",
    TAKEN_BACK: "The return for revision was taken back: this grade stands.",
    REVISED: "New version handed in. This grade is for the earlier version until the teacher grades the new one.",
}
ACTIVITY = {RETURNED: "InProgress", TAKEN_BACK: "Completed", REVISED: "Submitted"}


def wanted_state(submission: Submission) -> str | None:
    """The revision state the LMS should show, or None when there is nothing to say: a graded
    essay never returned (or whose return never reached the LMS) needs no note."""
    if submission.status == SubmissionStatus.RETURNED:
        return RETURNED
    if submission.status == SubmissionStatus.SUBMITTED:
        return REVISED   # a new version of an essay that has a grade (the caller checked)
    if submission.status == SubmissionStatus.GRADED and (submission.lms_notice or "").startswith(RETURNED + ":"):
        return TAKEN_BACK
    return None


def comment(platform: Platform, state: str, grade: Grade) -> str:
    note = NOTES[state]
    if (platform.product_family or "").lower() == "canvas" or not grade.comment:
        return note
    return f"{note}\n\n{grade.comment}"


def push_revision_state(submission_id: int) -> str:
    """Post the revision note for the essay's current grade; `gradebook.POSTED` or `SKIPPED`."""
    from lti_app.lms import gradebook

    submission = db.session.get(Submission, submission_id)
    grade = gradebook.latest_grade(submission_id) if submission is not None else None
    if grade is None or grade.posted_at is None:
        return gradebook.SKIPPED   # nothing in the LMS to annotate yet; push_grade comes first
    state = wanted_state(submission)
    marker = f"{state}:{grade.id}"
    if state is None or submission.lms_notice == marker:
        return gradebook.SKIPPED
    target = gradebook.post_target(submission)
    if target is None:
        return gradebook.SKIPPED
    assignment, user = target
    lineitem_url = gradebook.ensure_line_item(assignment)
    course = db.session.get(Course, assignment.course_id)
    platform = db.session.get(Platform, course.platform_id)
    body = ags.score_body(user_id=user.sub, timestamp=utcnow(), activity_progress=ACTIVITY[state],
                          grading_progress="FullyGraded", score_given=grade.score,
                          score_maximum=grade.score_max, comment=comment(platform, state, grade))
    ags.post_score(gradebook.client_for_course(course), lineitem_url, body)
    submission.lms_notice = marker
    db.session.commit()
    return gradebook.POSTED
