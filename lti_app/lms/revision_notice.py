"""Telling the LMS gradebook where a revision stands, so the student learns it there too.

A return for revision, its taking back, and the student's new version change no grade: the LMS
keeps the grade it has (a score without `scoreGiven` would clear it). So the current grade is
posted again, unchanged and `FullyGraded`, with a note in the comment and the AGS activity
progress (`InProgress` while the student revises). Posted only once the grade itself is in the
LMS (`push_grade` then calls this for a return made before its post went out).

Comments differ between LMSs: Canvas adds every score's comment to the submission's comments, so
it gets the note alone (the teacher's comment is already there); Moodle and others replace the
grade's feedback, so they get the note and the teacher's comment.

`Submission.lms_notice` names the last note posted and is claimed with a conditional update
before the post, so a redelivered event, or the web request's attempt racing the worker's, posts
nothing twice (Canvas would show the comment twice). A note whose post failed may have reached the
LMS all the same (its answer came after the HTTP timeout): the student's result is read first, and
when the LMS holds this grade's score with this note's words (the last comment it took), the note
is in the LMS and is not sent again (without `result.readonly` it is sent, as before).
`lms_notice_at` is the note's AGS timestamp (or the later one `gradebook` gave a grade the LMS
refused as older, when it sent it again): LMSs refuse a score older than the last one they hold
(Moodle: one not in a later whole second), so `push_grade` posts a grade created before it or in
the same second (clocks of two machines, or a save during the note's post) in the next whole
second instead. On Canvas a note says it is no new submission (`gradebook.not_a_new_submission`):
Canvas would open a new, empty attempt for it.
"""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import update

from lti_app.extensions import db
from lti_app.lms import ags, held_score
from lti_app.lms.held_score import next_second
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


def wanted_state(submission: Submission, grade: Grade) -> str | None:
    """The revision state the LMS should show beside `grade` (the current one), or None when there
    is nothing to say: a graded essay whose return for this grade never reached the LMS needs no
    "taken back" (nor does one graded again after a revision)."""
    if submission.status == SubmissionStatus.RETURNED:
        return RETURNED
    if submission.status == SubmissionStatus.SUBMITTED:
        return REVISED   # a new version of an essay that has a grade (the caller checked)
    if submission.status == SubmissionStatus.GRADED and submission.lms_notice == f"{RETURNED}:{grade.id}":
        return TAKEN_BACK
    return None


def comment(platform: Platform, state: str, teacher_comment: str | None) -> str:
    from lti_app.lms.gradebook import is_canvas   # it imports this module

    note = NOTES[state]
    if is_canvas(platform) or not teacher_comment:
        return note
    return f"{note}\n\n{teacher_comment}"


def _aware(ts: datetime) -> datetime:
    return ts if ts.tzinfo is not None else ts.replace(tzinfo=timezone.utc)


def grade_timestamp(submission: Submission, grade: Grade) -> datetime:
    """The AGS timestamp of `grade`'s post: its creation time, or the next whole second after the
    last note when the grade was not created in a later second (Moodle compares whole seconds and
    refuses an equal one). Re-posts stay identical: both times are stored."""
    created = _aware(grade.created_at)
    if submission.lms_notice_at is None:
        return created
    after_note = next_second(_aware(submission.lms_notice_at))
    return created if created >= after_note else after_note


def _claim(submission: Submission, marker: str, at: datetime, previous: str | None) -> bool:
    """Name this note as posted unless another attempt changed the name since it was read."""
    changed = db.session.execute(
        update(Submission).where(Submission.id == submission.id,
                                 Submission.lms_notice.is_not_distinct_from(previous))
        .values(lms_notice=marker, lms_notice_at=at)).rowcount
    db.session.commit()
    return bool(changed)


def push_revision_state(submission_id: int) -> str:
    """Post the revision note for the essay's current grade; `gradebook.POSTED` or `SKIPPED`."""
    from lti_app.lms import gradebook

    submission = db.session.get(Submission, submission_id)
    grade = gradebook.latest_grade(submission_id) if submission is not None else None
    if grade is None or grade.posted_at is None:
        return gradebook.SKIPPED   # nothing in the LMS to annotate yet; push_grade comes first
    state = wanted_state(submission, grade)
    marker = f"{state}:{grade.id}"
    if state is None or submission.lms_notice == marker:
        return gradebook.SKIPPED
    target = gradebook.post_target(submission)
    if target is None:
        return gradebook.SKIPPED
    assignment, user = target
    # In a whole second after now and after every time sent for this essay (the grade's, an
    # earlier note's): Moodle refuses a score in the same second as the grade it holds, and on an
    # activity's own column it holds the time the grade arrived (a return made just after grading).
    previous, previous_at = submission.lms_notice, submission.lms_notice_at
    now = next_second(max(utcnow(), grade_timestamp(submission, grade)))
    score, score_max, teacher_comment = grade.score, grade.score_max, gradebook.posted_comment(assignment, grade)
    if not _claim(submission, marker, now, previous):
        return gradebook.SKIPPED   # another attempt got there first
    try:
        lineitem_url = gradebook.ensure_line_item(assignment)
        course = db.session.get(Course, assignment.course_id)
        platform = db.session.get(Platform, course.platform_id)
        note = comment(platform, state, teacher_comment)
        client = gradebook.client_for_course(course)
        if held_score.holds(held_score.result_of(client, lineitem_url, user.sub), score, score_max, note):
            db.session.commit()   # an earlier attempt's note, its answer lost: the LMS shows it
            return gradebook.POSTED
        body = ags.score_body(user_id=user.sub, timestamp=now, activity_progress=ACTIVITY[state],
                              grading_progress="FullyGraded", score_given=score, score_maximum=score_max,
                              comment=note, extensions=gradebook.not_a_new_submission(platform))
        ags.post_score(client, lineitem_url, body)
    except Exception:
        db.session.rollback()
        db.session.execute(update(Submission).where(Submission.id == submission_id, Submission.lms_notice == marker)
                           .values(lms_notice=previous, lms_notice_at=previous_at))
        db.session.commit()
        raise
    db.session.commit()   # keeps a line item URL found on the way
    return gradebook.POSTED
