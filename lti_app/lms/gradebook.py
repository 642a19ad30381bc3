"""Product-level gradebook sync: what the web app and the worker call to keep the LMS up to date.

Every function is idempotent and safe to call twice (the outbox may deliver a `gradebook.sync`
event after the web request already pushed it synchronously):
- `push_grade` skips a grade that is already posted or superseded by a newer grade, and uses the
  grade's creation time as the AGS timestamp (the next whole second after a revision note's when
  that is not older, `revision_notice.grade_timestamp`), so an older grade can never overwrite a
  newer one on the platform. A grade whose last attempt failed (its answer may have been lost
  after the LMS took it), or that the LMS refused as older (409), is first looked up in the LMS
  (`held_score`): when the LMS holds it already it is not sent again. A grade superseded while
  its post is on its way (two graders or tabs at once) is never sent again after a refusal
  (`_post_grade`): it would replace the newer grade in the LMS. A grade whose essay is deleted
  while its post is on its way (an erasure, a course's data deleted) ends as skipped, with
  nothing stored (`_store_outcome`): no failure, no retry.
- On Canvas every post but a hand-in says it is not a new submission (`not_a_new_submission`).
- `push_submission_status` never posts "Pending" over a graded submission (a hand-in that no model
  will score is "PendingManual": it waits for the teacher); a new version of a
  graded essay (a revision) gets the grade re-posted with a note instead (`revision_notice`). A
  hand-in whose earlier post got no answer is read back first on Canvas (`held_score.holds_hand_in`):
  told twice, it would be a second submission attempt there.
Two attempts at once (the web request and the worker) are settled by claims (`post_claims`):
only one posts. Failures raise `LmsTemporaryError` (retry later) or `LmsPermanentError` (the LMS refused, message
in words); `push_grade` also stores the message on `Grade.post_error` for the teacher's page.
"""
from __future__ import annotations

import logging

from sqlalchemy import update

from lti_app.events import record_event
from lti_app.extensions import db
from lti_app.lms import ags, held_score, nrps, post_claims
from lti_app.lms.client import LmsClient
from lti_app.lms.errors import LmsError, LmsNotConfigured, LmsPermanentError
from lti_app.lms.revision_notice import grade_timestamp, push_revision_state
from lti_app.lms_words import product_name
from lti_app.models import (Assignment, Course, CourseRole, FeedbackMode, Grade, GradeSource, Platform,
                            ResourceLink, Submission, SubmissionStatus, User)
from lti_app.models.base import utcnow

log = logging.getLogger(__name__)

LINE_ITEM_TAG = "gradeloop-essay"

POSTED = "posted"
SKIPPED = "skipped"


def client_for_course(course: Course) -> LmsClient:
    return LmsClient.for_platform(db.session.get(Platform, course.platform_id))


def line_item_body(assignment: Assignment, resource_link: ResourceLink | None) -> dict:
    item = {"scoreMaximum": assignment.score_max, "label": assignment.title[:250],
            "resourceId": assignment.resource_id, "tag": LINE_ITEM_TAG}
    if resource_link is not None:
        item["resourceLinkId"] = resource_link.resource_link_id
    return item


def has_gradebook(assignment: Assignment) -> bool:
    """Whether grades of this assignment can reach the LMS at all: a column is known, or the course
    gave Gradeloop its line-items service (LTI AGS). Without either nothing can be sent, so
    offering "send again" would only fail again."""
    if assignment.lineitem_url:
        return True
    link = db.session.get(ResourceLink, assignment.resource_link_id) if assignment.resource_link_id else None
    return bool(link is not None and link.ags_lineitem_url) or \
        bool(db.session.get(Course, assignment.course_id).ags_lineitems_url)


def ensure_line_item(assignment: Assignment) -> str:
    """The assignment's line item URL: the launch's, else found by resource link / resourceId,
    else created. Sets `assignment.lineitem_url` and commits it at once: the column exists in the
    LMS whatever happens to the post that follows, and on SQLite the flush of that change would
    otherwise hold the database's write lock through the caller's next LMS call (every hand-in,
    launch and save waited behind a slow LMS). Callers have committed their own changes before.

    Only one column is ever created per assignment, even when the web request, the hand-in push,
    assignment setup and the worker get here at once: before searching the LMS this takes a
    PostgreSQL advisory lock of its own for the assignment (`column_lock`) and looks at
    `lineitem_url` again. The lock lasts until the URL is committed here or, when the LMS call
    fails, until the caller's commit or rollback, so every caller must end its transaction on
    every path (they all do: `LmsError` commits `post_error` or rolls back, the worker and
    `lms_sync` roll back anything else). Only other column creators wait for it, at most as long
    as the holder's LMS calls (each bounded by `client.http_timeout()`), and only while the
    assignment has no column yet; the fast path (URL already known) takes no lock. It is not the
    assignment's row lock: that one made scoring (`FOR SHARE`), imports and scale edits wait
    behind the LMS too. Callers hold no row lock when they get here, and the holder only waits
    on the LMS, so no deadlock.

    SQLite (embedded, one machine) has no row locks and drops FOR UPDATE: two processes can
    still both create a column there. Serialising would need SQLite's database-wide write lock,
    held across LMS calls of up to the HTTP timeout each, stalling every launch and grade save
    (busy_timeout 10 s) whenever the LMS is slow; a rare extra column in a demo is the lesser
    harm (the teacher can delete it; grades go to the one stored here)."""
    if assignment.lineitem_url:
        return assignment.lineitem_url
    link = db.session.get(ResourceLink, assignment.resource_link_id) if assignment.resource_link_id else None
    if link is not None and link.ags_lineitem_url:
        return _keep_line_item(assignment, link.ags_lineitem_url)
    course = db.session.get(Course, assignment.course_id)
    if not course.ags_lineitems_url:
        raise LmsNotConfigured("This course did not give Gradeloop access to its gradebook (LTI Assignment "
                               "and Grade Services are off for this tool). Grades are kept in Gradeloop.")
    # Search-then-create is not atomic on the LMS side: two callers that both search before
    # either has created would both create, and the teacher would see duplicate columns. So the
    # search and create are done under the column lock, and a caller that waited re-reads the row
    # (populate_existing; a new statement sees what committed while it waited) to pick up the
    # winner's URL.
    column_lock(assignment.id)
    assignment = db.session.scalars(
        db.select(Assignment).where(Assignment.id == assignment.id)
        .execution_options(populate_existing=True)).one()
    if assignment.lineitem_url:
        return assignment.lineitem_url
    client = client_for_course(course)
    found: list[dict] = []
    read_scope = ags.read_scope(link.ags_scopes if link is not None else None)
    if link is not None:
        found = ags.find_line_items(client, course.ags_lineitems_url, resource_link_id=link.resource_link_id,
                                    read_scope=read_scope)
    if not found and assignment.resource_id:
        found = ags.find_line_items(client, course.ags_lineitems_url, resource_id=assignment.resource_id,
                                    read_scope=read_scope)
    item = found[0] if found else ags.create_line_item(client, course.ags_lineitems_url,
                                                       line_item_body(assignment, link))
    if not item.get("id"):
        raise LmsNotConfigured("The LMS created the gradebook column but did not say where it is.")
    return _keep_line_item(assignment, item["id"])


# First key of the two-key advisory lock space, so these locks cannot meet another feature's
# (PostgreSQL's advisory keys are one namespace for the whole database): "LI" for line item.
COLUMN_LOCK_SPACE = 0x4C49


def column_lock(assignment_id: int) -> None:
    """Take the transaction's lock on creating this assignment's LMS column (PostgreSQL; no-op on
    SQLite, see `ensure_line_item`). Released by the transaction's commit or rollback."""
    conn = db.session.connection()
    if conn.dialect.name == "postgresql":
        conn.execute(db.text("SELECT pg_advisory_xact_lock(:space, :id)"),
                     {"space": COLUMN_LOCK_SPACE, "id": assignment_id})


def _keep_line_item(assignment: Assignment, url: str) -> str:
    assignment.lineitem_url = url
    db.session.commit()
    return url


def update_line_item(assignment: Assignment) -> None:
    """Keep the column's label and maximum in step with the assignment's settings."""
    if not assignment.lineitem_url:
        return
    course = db.session.get(Course, assignment.course_id)
    client = client_for_course(course)
    link = db.session.get(ResourceLink, assignment.resource_link_id) if assignment.resource_link_id else None
    scopes = link.ags_scopes if link is not None else None
    item = ags.get_line_item(client, assignment.lineitem_url, ags.read_scope(scopes))
    wanted = line_item_body(assignment, link)
    differ = [k for k in ("label", "scoreMaximum") if item.get(k) != wanted[k]]
    if differ:
        if not ags.may_change_line_items(scopes):
            raise LmsPermanentError(column_kept(product_name(course.platform_id), assignment, differ))
        item.update({k: wanted[k] for k in ("scoreMaximum", "label")})
        ags.update_line_item(client, assignment.lineitem_url, item)


def column_kept(lms: str, assignment: Assignment, differ: list[str]) -> str:
    """Why the column keeps what `differ` names (its "label", "scoreMaximum") when the LMS lets
    Gradeloop only send grades to it (Moodle's "grade sync only"), and what the teacher changes
    there, by hand: Gradeloop never will. `lms`: "Moodle", or "" for "the LMS"."""
    where = lms or "the LMS"
    kept = " and ".join(word for key, word in (("label", "name"), ("scoreMaximum", "maximum")) if key in differ)
    if differ == ["label"]:
        do = f"Rename it in {where} to \u201c{assignment.title}\u201d."
    elif differ == ["scoreMaximum"]:
        do = f"Set its maximum in {where} to {assignment.score_max}."
    else:
        do = f"Change them in {where} to \u201c{assignment.title}\u201d, out of {assignment.score_max}."
    return (f"{lms or 'The LMS'} does not let Gradeloop change this assignment's column in its gradebook, "
            f"so the column keeps its old {kept}. {do}")


def sync_line_item(assignment_id: int) -> str:
    """Make the LMS column match the assignment, as the set-up form promises: found (or created)
    and given the assignment's title and highest score. A column the teacher made in the LMS
    first (a Moodle activity out of 100, a Canvas assignment worth 10 points) would otherwise show
    a 4 of 6 as 66.67 of 100. Commits; what the worker runs for a `line_item` event."""
    assignment = db.session.get(Assignment, assignment_id)
    if assignment is None:
        return SKIPPED
    ensure_line_item(assignment)
    db.session.commit()   # a column found or created stays known if the update below fails
    update_line_item(assignment)
    return POSTED


def is_grader(course_id: int, user_id: int) -> bool:
    role = db.session.scalar(db.select(CourseRole.role).filter_by(course_id=course_id, user_id=user_id))
    return bool(role and role.can_grade)


def latest_grade(submission_id: int) -> Grade | None:
    return db.session.scalar(db.select(Grade).filter_by(submission_id=submission_id)
                             .order_by(Grade.created_at.desc(), Grade.id.desc()).limit(1))


def post_target(submission: Submission) -> tuple[Assignment, User] | None:
    """(assignment, LMS user) to post for, or None when there is nobody to post for."""
    if submission.user_id is None:   # imported essay: no LMS user
        return None
    assignment = db.session.get(Assignment, submission.assignment_id)
    # Moodle answers HTTP 400 for a non-gradable user (a teacher trying their own assignment).
    if is_grader(assignment.course_id, submission.user_id):
        return None
    return assignment, db.session.get(User, submission.user_id)


def is_canvas(platform: Platform) -> bool:
    return (platform.product_family or "").lower() == "canvas"


def not_a_new_submission(platform: Platform) -> dict:
    """The extension every Canvas post but a hand-in carries: Canvas takes a score without it as a
    new submission attempt (`ScoresController#new_submission?`), which leaves an empty attempt as
    the current one in SpeedGrader, dates it (and makes it late) at the time of the post, and is
    refused (422) once the assignment's attempts are used up."""
    return {ags.CANVAS_SUBMISSION_EXT: {"new_submission": False}} if is_canvas(platform) else {}


def _canvas_extension(platform: Platform, submission: Submission) -> dict:
    if not is_canvas(platform):
        return {}
    return {ags.CANVAS_SUBMISSION_EXT: {"new_submission": True, "submission_type": "online_text_entry",
                                        "submission_data": submission.text,
                                        "submitted_at": ags.iso(submission.submitted_at)}}


# The student page's "AI-assisted" badge, as the first line of the comment the LMS shows: students
# read feedback in the LMS gradebook as often as on Gradeloop's page, and without it an AI-written
# comment reads as the teacher's own words. Worded as the badge so the two places agree.
AI_LABELS = {GradeSource.AI_AUTO: "AI-assisted feedback, not yet reviewed by your teacher.",
             GradeSource.AI_APPROVED: "AI-assisted feedback, reviewed by your teacher.",
             GradeSource.AI_EDITED: "AI-assisted feedback, reviewed by your teacher."}


def posted_comment(assignment: Assignment, grade: Grade) -> str:
    """The grade's comment as the LMS gets it: labelled when the assignment tells students about AI
    feedback (the stored comment stays the teacher's text). Depends only on the grade and that
    setting, so a re-post of the same grade sends the same words."""
    label = AI_LABELS.get(grade.source) if assignment.show_ai_label else None
    if not label:
        return grade.comment or ""
    return f"{label}\n\n{grade.comment}" if grade.comment else label


def push_grade(grade_id: int) -> str:
    """Post the grade (score, comment, FullyGraded/Completed) to the LMS; commits the sync state."""
    grade = db.session.get(Grade, grade_id)
    if grade is None:
        return SKIPPED
    submission = db.session.get(Submission, grade.submission_id)
    latest = latest_grade(submission.id)
    if grade.posted_at is not None or (latest is not None and latest.id != grade.id):
        return SKIPPED
    target = post_target(submission)
    if target is None:
        if submission.user_id is not None:
            grade.post_error = ("Not sent to the LMS: this essay belongs to a teacher of the course, "
                                "and LMS gradebooks only hold grades for students.")
            db.session.commit()
        return SKIPPED
    assignment, user = target
    # The last attempt failed, or died mid-post (its claim is taken over below): the LMS may have
    # taken the grade all the same, its answer lost (after the HTTP timeout, or with the process).
    uncertain = grade.post_error is not None or grade.post_claimed_at is not None
    if not post_claims.claim_grade(grade_id):
        if grade.posted_at is not None:   # (read again: the claim's commit expired it)
            return SKIPPED
        raise post_claims.BeingPosted("This grade is being sent to the LMS by another attempt right now.")
    try:
        lineitem_url = ensure_line_item(assignment)
        course = db.session.get(Course, assignment.course_id)
        platform = db.session.get(Platform, course.platform_id)
        client = LmsClient.for_platform(platform)
        comment = posted_comment(assignment, grade)
        body = ags.score_body(user_id=user.sub, timestamp=grade_timestamp(submission, grade),
                              activity_progress="Completed",
                              grading_progress="FullyGraded", score_given=grade.score,
                              score_maximum=grade.score_max, comment=comment,
                              extensions=not_a_new_submission(platform))
        if uncertain and held_score.holds(
                held_score.result_of(client, lineitem_url, user.sub), grade.score, grade.score_max, comment):
            sent = True
        else:
            sent = _post_grade(client, lineitem_url, body, grade)
    except LmsError as exc:
        if isinstance(exc, LmsPermanentError) and exc.status in (400, 403, 404, 422) and _left(assignment, user):
            exc = LmsPermanentError(
                f"Not sent: {user.name or 'this student'} is no longer an active student of this course in the LMS "
                "(the enrolment was ended or suspended there), so the LMS takes no grade for them. The grade "
                "stays in Gradeloop; if they come back, use \"Send to the LMS again\".", status=exc.status, url=exc.url)
        if not _store_outcome(grade_id, post_error=str(exc)):
            return SKIPPED   # deleted on the way: nobody is left to tell of the refusal
        log.warning("grade %s not posted: %s", grade_id, exc)
        raise exc
    except Exception:
        db.session.rollback()
        post_claims.release_grade(grade_id)
        raise
    # Superseded (not sent): not a failure, and the newer grade's own post says how it went.
    if not _store_outcome(grade_id, post_error=None, **({"posted_at": utcnow()} if sent else {})) or not sent:
        return SKIPPED
    if submission.status == SubmissionStatus.RETURNED:   # returned before this post went out
        _note_return(submission.id)
    return POSTED


def _store_outcome(grade_id: int, **values) -> bool:
    """Store how the grade's post ended and drop its claim (commits); False when the grade is gone:
    its essay was deleted while the post was on its way (the student's data erased, the course's
    data deleted). The LMS's answer then changes nothing here, and is no failure to retry: the
    conditional update stores nothing, where an update of the grade's loaded row failed the
    commit, and the grading page with it."""
    stored = db.session.execute(update(Grade).where(Grade.id == grade_id).values(post_claimed_at=None, **values),
                                execution_options=post_claims.NO_SYNC).rowcount
    db.session.commit()
    return bool(stored)


def _post_grade(client: LmsClient, lineitem_url: str, body: dict, grade: Grade) -> bool:
    """Post the grade's score; True when the LMS holds it, False when a newer grade of the essay
    was saved while it was on its way. The LMS refuses (409) a score older than the one it holds:
    either it took this grade already (the answer was lost), or it holds what Gradeloop sent
    before this grade (a note or earlier grade given a later time, Moodle's clock, a hand-in in
    the same second) and this one, the newest, goes again just after it; or someone changed the
    grade in the LMS itself, which is said in words and left as it is. A grade no longer the
    newest is never sent again: it would replace the newer grade in the LMS (a co-grader's, another
    tab's, a teacher's correction of an AI grade the worker was sending) while Gradeloop shows the
    newer one as sent. Its refusal, 409 or Canvas's 400 for an older timestamp, is then no failure."""
    try:
        ags.post_score(client, lineitem_url, body)
        return True
    except LmsPermanentError as exc:
        if exc.status not in (400, 409):
            raise
        refusal = exc
    if refusal.status != 409:
        if _superseded(grade):
            return False
        raise refusal
    result = held_score.result_of(client, lineitem_url, body["userId"])
    if held_score.holds(result, grade.score, grade.score_max, body.get("comment") or ""):
        return True
    # Asked after the LMS answered, just before the post that would replace what it holds (and
    # before calling that a change made in the LMS): the newer grade may be what it holds.
    if _superseded(grade):
        return False
    held = held_score.held_score(result, grade.score_max)
    if held is not None and not any(held_score.same_score(held, g.score, grade.score_max)
                                    for g in [grade, *_sent_grades(grade.submission_id)]):
        raise LmsPermanentError(
            f"Not sent: the LMS gradebook holds another grade for this student ({round(held, 2):g} out of "
            f"{grade.score_max}), given after this one and not by Gradeloop, most likely changed in the "
            "LMS itself. Change it there, or save the grade again here to send this one as the newest.",
            status=409, url=refusal.url) from refusal
    stamp = held_score.after_held(result)
    ags.post_score(client, lineitem_url, {**body, "timestamp": ags.iso(stamp)})
    # Later posts of this essay (notes, the next grade) must come after it (`grade_timestamp`).
    # (An update by id: the essay may have been deleted while the post was on its way.)
    db.session.execute(update(Submission).where(Submission.id == grade.submission_id).values(lms_notice_at=stamp),
                       execution_options=post_claims.NO_SYNC)
    return True


def _superseded(grade: Grade) -> bool:
    """Whether the essay has a newer grade than `grade` now: read by a statement of its own, which
    sees a grade another request or the worker committed since this post began."""
    latest = latest_grade(grade.submission_id)
    return latest is None or latest.id != grade.id


def _left(assignment: Assignment, user: User) -> bool:
    """After the LMS refused a student's grade: whether the course roster no longer lists them as
    an active member (a student who dropped the course, or whose enrolment was suspended: the
    most common refusal, which the LMS's own words may not reach the teacher with). False when the
    roster cannot be read."""
    course = db.session.get(Course, assignment.course_id)
    if not course.nrps_url:
        return False
    try:
        members = nrps.memberships(client_for_course(course), course.nrps_url)
    except LmsError:
        return False
    return not any(m.user_id == user.sub and m.active for m in members)


def _sent_grades(submission_id: int) -> list[Grade]:
    return list(db.session.scalars(db.select(Grade).where(Grade.submission_id == submission_id,
                                                          Grade.posted_at.is_not(None))))


def _note_return(submission_id: int) -> None:
    """The return's own event skipped its note while the grade was not in the LMS: post it now.
    The grade is posted either way, so a failure is not raised (the caller would report the grade
    as not taken): the note goes to the worker as an event of its own instead."""
    try:
        push_revision_state(submission_id)
    except Exception as exc:
        db.session.rollback()
        log.warning("return note for submission %s not posted now, queued: %s", submission_id, exc)
        submission = db.session.get(Submission, submission_id)
        record_event("gradebook.sync", {"assignment_id": submission.assignment_id, "submission_id": submission_id,
                                        "revision": True})
        db.session.commit()


def model_scores(assignment: Assignment) -> bool:
    """Whether a course model serves the assignment and its proposals are used (review or
    auto-release). Otherwise nothing scores a hand-in (`scoring_skipped reason=no_model`) and it
    waits for the teacher: the LMS is told `PendingManual`, not `Pending` (a grade on its way)."""
    return assignment.current_model_id is not None and assignment.feedback_mode != FeedbackMode.OFF


def push_submission_status(submission_id: int, activity_progress: str = "Submitted",
                           grading_progress: str = "Pending") -> str:
    """Tell the LMS the student handed in (no score). Never overwrites a graded submission, nor
    the grade of a returned essay's earlier version: a score without `scoreGiven` clears the LMS's
    grade (AGS), and the student would have none until the teacher grades the revision."""
    submission = db.session.get(Submission, submission_id)
    if submission is None:
        return SKIPPED
    if grading_progress != "FullyGraded" and (submission.status == SubmissionStatus.GRADED
                                              or latest_grade(submission.id) is not None):
        if submission.status == SubmissionStatus.SUBMITTED:   # a revision: say so beside the grade
            return push_revision_state(submission.id)
        return SKIPPED
    target = post_target(submission)
    if target is None:
        return SKIPPED
    assignment, user = target
    submitted_at = submission.submitted_at
    # The hand-in itself (Submitted/Pending: the web request and the worker both send it) is
    # told once per version; a later change of progress (PendingManual: the AI's proposal waits
    # for the teacher) is a post of its own, sent by the worker alone.
    hand_in = grading_progress == "Pending"
    if hand_in and not model_scores(assignment):
        grading_progress = "PendingManual"   # nothing but the teacher will grade it: say so from the start
    # An earlier attempt failed unrefused, or died mid-post (its claim is taken over below): the
    # LMS may have taken the hand-in, its answer lost.
    uncertain = hand_in and submission.lms_submit_claimed_at is not None
    if hand_in and not post_claims.claim_hand_in(submission_id, submitted_at):
        if post_claims.hand_in_told(submission_id, submitted_at):
            return SKIPPED
        raise post_claims.BeingPosted("This hand-in is being sent to the LMS by another attempt right now.")
    client = lineitem_url = None
    try:
        lineitem_url = ensure_line_item(assignment)
        course = db.session.get(Course, assignment.course_id)
        platform = db.session.get(Platform, course.platform_id)
        client = LmsClient.for_platform(platform)
        extensions = _canvas_extension(platform, submission) if hand_in else not_a_new_submission(platform)
        # On Canvas, told twice is a second submission attempt; its results show the hand-in it took.
        if uncertain and extensions and held_score.holds_hand_in(
                held_score.result_of(client, lineitem_url, user.sub), submitted_at):
            _told(hand_in, submission_id, submitted_at)
            return POSTED
        body = ags.score_body(user_id=user.sub, timestamp=submitted_at,
                              activity_progress=activity_progress, grading_progress=grading_progress,
                              extensions=extensions)
        ags.post_score(client, lineitem_url, body)
    except LmsPermanentError as exc:
        if exc.status != 409 and not (exc.status == 400 and not hand_in and client is not None
                                      and _graded_there(client, lineitem_url, user.sub)):
            db.session.rollback()
            if hand_in:
                post_claims.end_hand_in(submission_id, None)
            raise
        # 409: the LMS already holds a newer score (e.g. the grade): nothing to tell it.
        _told(hand_in, submission_id, submitted_at)
        return SKIPPED
    except Exception as exc:
        db.session.rollback()
        if hand_in:
            post_claims.end_hand_in(submission_id, None, maybe_taken=_answer_lost(exc))
        raise
    _told(hand_in, submission_id, submitted_at)
    return POSTED


def _answer_lost(exc: Exception) -> bool:
    """Whether a post that failed may have reached the LMS all the same: no answer came (a timeout,
    a dropped connection), or a gateway's in its place (502, 504: the LMS behind it may have taken
    it). An LMS that answered itself (503, 429) did not take it."""
    return getattr(exc, "status", None) in (None, 502, 504)


def _graded_there(client: LmsClient, lineitem_url: str, user_sub: str) -> bool:
    """After a status post was refused with 400: whether the LMS holds a score for the student.
    Canvas refuses a score older than the one it holds with 400 ("before last updated timestamp"),
    where Moodle answers 409: a "waiting for the teacher" post that reached Canvas after the
    teacher's grade (the worker and the grading page at the same moment) has nothing to tell it."""
    try:
        return held_score.held_score(held_score.result_of(client, lineitem_url, user_sub), 1.0) is not None
    except LmsError:
        return False


def _told(hand_in: bool, submission_id: int, submitted_at) -> None:
    """Commit a status post that reached the LMS, with a line item URL found on the way (and, for
    a hand-in, its claim turned into the record that this version was told)."""
    if hand_in:
        post_claims.end_hand_in(submission_id, submitted_at)   # commits
    else:
        db.session.commit()


def process_sync(payload: dict) -> str:
    """Handle one `gradebook.sync` event payload (what the worker calls). A course whose LMS
    gives no gradebook access (no AGS) is skipped, not dead-lettered: nothing can be retried, and
    the grade's `post_error` already tells the teacher, so every hand-in and grade of such a
    course would otherwise fill the dead letters."""
    try:
        if payload.get("line_item"):
            return sync_line_item(int(payload["assignment_id"]))
        if payload.get("grade_id"):
            return push_grade(int(payload["grade_id"]))
        if payload.get("submission_id") and payload.get("revision"):
            return push_revision_state(int(payload["submission_id"]))
        if payload.get("submission_id"):
            return push_submission_status(int(payload["submission_id"]),
                                          payload.get("activity_progress") or "Submitted",
                                          payload.get("grading_progress") or "Pending")
    except LmsNotConfigured as exc:
        db.session.rollback()
        log.info("gradebook sync %s skipped: %s", payload, exc)
    return SKIPPED


def unposted_grades(assignment_id: int) -> list[Grade]:
    """Current grades of the assignment's students that the LMS does not have yet (by id).
    Two queries whatever the class size: every grade of the assignment's students, newest first per
    essay (the first is the current one), and the course's grading roles (Moodle refuses a grader's
    score). It ran three queries per unposted grade, which a bulk approval or a resend of a whole
    class's grades paid on every click."""
    assignment = db.session.get(Assignment, assignment_id)
    rows = db.session.execute(
        db.select(Grade, Submission.user_id).join(Submission, Grade.submission_id == Submission.id)
        .where(Submission.assignment_id == assignment_id, Submission.user_id.is_not(None))
        .order_by(Grade.submission_id, Grade.created_at.desc(), Grade.id.desc())).all()
    graders = {user_id for user_id, role in db.session.execute(
        db.select(CourseRole.user_id, CourseRole.role).where(CourseRole.course_id == assignment.course_id))
        if role.can_grade}
    current, seen = [], set()
    for grade, user_id in rows:
        if grade.submission_id in seen:
            continue
        seen.add(grade.submission_id)
        if grade.posted_at is None and user_id not in graders:
            current.append(grade)
    return sorted(current, key=lambda g: g.id)
