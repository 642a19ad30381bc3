"""Students hand in an essay (pasted or uploaded), see its status and, once released, the grade.

A submission is one row per student and assignment; resubmitting replaces the text until the
essay is graded (if the assignment allows it), or once the teacher returned it for revision
(`revision.py`): the grades of the returned version then keep its text (`Grade.essay_text`).
The hand-in box starts from the version that may be replaced (`box_text`); `hand_in_checks` refuses
a text without words and asks before storing a very short one.
The LMS is told "Submitted / Pending" through a `gradebook.sync` outbox event plus an immediate
fail-soft attempt (see `lms_sync`); a revision is not announced, because the LMS keeps the
previous version's grade until the new grade replaces it (`gradebook.push_submission_status`).
"""
from __future__ import annotations

import hashlib

from flask import current_app, render_template, request
from sqlalchemy.exc import IntegrityError

from lti_app.auth import require_launch
from lti_app import lms_words, worker_presence
from lti_app.coursework import access, bp, hand_in_checks, lms_sync, notices, student_status
from lti_app.coursework.essay_text import normalise, word_count
from lti_app.coursework.files import ACCEPT_ATTR, EssayFileError, clean_filename, extract_text
from lti_app.events import record_event
from lti_app.extensions import db
from lti_app.lms.gradebook import latest_grade
from lti_app.models import Assignment, Grade, GradeSource, Submission, SubmissionStatus
from lti_app.models.base import utcnow
from lti_app.locking import for_update

AI_SOURCES = (GradeSource.AI_APPROVED, GradeSource.AI_EDITED, GradeSource.AI_AUTO)


class SubmissionRefused(ValueError):
    """Shown to the student as is."""


def box_digest(text: str) -> str:
    """What the essay box started with, as the form carries it back (`text_start`)."""
    return hashlib.sha256(normalise(text).encode("utf-8", "surrogatepass")).hexdigest()


def essay_from_request(form_started_with: str = "", earlier_kept: bool = False) -> tuple[str, str | None]:
    """(text, filename) from the form: the chosen file, or else the text box. A file chosen while
    the text box holds other text is refused: one of the two would be thrown away without the
    student knowing which. Not refused: the box as the page filled it (the current version's text,
    `box_text`; the form says which in `text_start`, else `form_started_with`), or the file's own
    text. `earlier_kept`: a version is handed in already, which a refusal leaves in place. An
    `EssayFileError` names the fields it is about in `fields` ("file", "text", or both)."""
    upload = request.files.get("file")
    try:
        return _essay(upload, form_started_with, earlier_kept)
    except EssayFileError as exc:
        # The field the error is about is the one the page marks invalid and describes with it: a
        # damaged file must not send a screen reader to the untouched text box.
        if not hasattr(exc, "fields"):
            exc.fields = ("file",) if upload is not None and upload.filename else ("text",)
        raise


def _essay(upload, form_started_with: str, earlier_kept: bool) -> tuple[str, str | None]:
    max_chars = current_app.config["GRADELOOP_MAX_ESSAY_CHARS"]
    if upload is not None and upload.filename:
        data = upload.stream.read(current_app.config["GRADELOOP_MAX_UPLOAD_BYTES"] + 1)
        text = extract_text(upload.filename, data, max_bytes=current_app.config["GRADELOOP_MAX_UPLOAD_BYTES"],
                            max_chars=max_chars)
        typed = normalise(request.form.get("text") or "")
        started = request.form.get("text_start") or box_digest(form_started_with)
        if typed and typed != text and box_digest(typed) != started:
            both = EssayFileError("You chose a file and also typed or pasted text. Hand in one of them: empty "
                                  "the text box to send the file, or remove the file to send the text.")
            both.fields = ("file", "text")
            raise both
        filename = clean_filename(upload.filename)
    else:
        text, filename = normalise(request.form.get("text") or ""), None
    if not text:
        raise EssayFileError("The essay is empty. Paste your text or choose a file." if filename is None
                             else "This file contains no text.")
    if len(text) > max_chars:
        raise EssayFileError(hand_in_checks.too_long(len(text), max_chars, earlier_kept))
    hand_in_checks.require_words(text, from_file=filename is not None)
    return text, filename


class AlreadyHandedIn(Exception):
    """The same text is already the student's current version (a double click, or a re-sent form)."""

    def __init__(self, submission: Submission):
        super().__init__("already handed in")
        self.submission = submission


def submit_essay(assignment: Assignment, user_id: int, text: str, filename: str | None) -> Submission:
    """Create or replace the student's submission and record its events (caller commits).

    The row is read locked (PostgreSQL): a worker auto-releasing a grade, or a teacher saving one,
    holds the same lock while it sets GRADED, so a hand-in that arrives meanwhile waits, then reads
    GRADED and is refused, instead of replacing the text of an essay whose grade is in the LMS."""
    submission = db.session.scalar(for_update(db.select(Submission).filter_by(assignment_id=assignment.id,
                                                                              user_id=user_id))
                                   .execution_options(populate_existing=True))
    if submission is not None:
        if submission.status == SubmissionStatus.RETURNED:
            if submission.text == text:
                raise SubmissionRefused("This is the version your teacher returned. Revise it before handing it in again.")
            keep_graded_text(submission)
        elif submission.text == text and submission.status != SubmissionStatus.GRADED:
            raise AlreadyHandedIn(submission)
        elif submission.status == SubmissionStatus.GRADED:
            raise SubmissionRefused("Your essay has already been graded, so it cannot be replaced.")
        elif not assignment.allow_resubmit:
            raise SubmissionRefused("This assignment does not allow handing in a second version.")
    else:
        submission = Submission(assignment_id=assignment.id, user_id=user_id)
        db.session.add(submission)
    submission.text, submission.filename, submission.word_count = text, filename, word_count(text)
    submission.status = SubmissionStatus.SUBMITTED
    submission.submitted_at = utcnow()
    db.session.flush()
    record_event("submission.created", {"submission_id": submission.id, "assignment_id": assignment.id,
                                        "course_id": assignment.course_id})
    record_event("gradebook.sync", {"assignment_id": assignment.id, "submission_id": submission.id,
                                    "activity_progress": "Submitted", "grading_progress": "Pending"})
    return submission


def keep_graded_text(submission: Submission) -> None:
    """Before a revision replaces the text: every grade given on the current text keeps a copy,
    so training, the grade history and the student's earlier feedback stay with what was graded."""
    db.session.execute(db.update(Grade).where(Grade.submission_id == submission.id, Grade.essay_text.is_(None))
                       .values(essay_text=submission.text))


def _hand_in(assignment: Assignment, user_id: int, text: str, filename: str | None) -> Submission:
    """`submit_essay` and commit. Two first hand-ins at the same moment (a double click while the
    first waits for the LMS) both find no row; the unique (assignment, student) constraint stops the
    second, which is then answered from the row the first made: nothing is stored twice."""
    try:
        submission = submit_essay(assignment, user_id, text, filename)
        db.session.commit()
        return submission
    except IntegrityError:
        db.session.rollback()
    # Once more against the other request's row: the same text raises AlreadyHandedIn, another text
    # replaces it or is refused, exactly as if the two clicks had come one after the other.
    submission = submit_essay(assignment, user_id, text, filename)
    db.session.commit()
    return submission


@bp.route("/a/<int:assignment_id>/essay", methods=["GET", "POST"])
@require_launch()
def student(assignment_id: int):
    assignment = access.assignment_for_student(assignment_id)
    ctx = access.launch()
    submission = db.session.scalar(db.select(Submission).filter_by(assignment_id=assignment.id,
                                                                   user_id=ctx.user_id))
    error, error_fields, refused_text, short_question = None, ("text",), "", None
    if request.method == "POST":
        text = ""
        try:
            text, filename = essay_from_request(box_text(assignment, submission), earlier_kept=submission is not None)
            short_question = hand_in_checks.short_question(word_count(text), box_digest(text),
                                                           submission.word_count if submission else None)
            if short_question is None:
                submission = _hand_in(assignment, ctx.user_id, text, filename)
        except EssayFileError as exc:
            db.session.rollback()
            error, error_fields = str(exc), exc.fields
        except SubmissionRefused as exc:
            db.session.rollback()
            error, refused_text = _refusal(exc, submission), text
        except AlreadyHandedIn:
            db.session.rollback()
            return notices.redirect_with("coursework.student", [("success", "Your essay was handed in.")],
                                         assignment_id=assignment.id)
        else:
            if short_question is None:
                problem = lms_sync.push_submission_now(submission.id)
                message = (f"Your essay was handed in from the file {filename}." if filename else
                           "Your essay was handed in.") + (_shows_shortly(ctx.platform_id) if problem else "")
                return notices.redirect_with("coursework.student", [("success", message)],
                                             assignment_id=assignment.id)
    grade = latest_grade(submission.id) if submission is not None else None
    # A grade on an earlier version (the student revised a returned essay) is shown as that.
    previous = grade if grade is not None and grade.on_earlier_version else None
    grade = None if previous else grade
    returned = submission is not None and submission.status == SubmissionStatus.RETURNED
    can_submit = submission is None or returned or (submission.status != SubmissionStatus.GRADED
                                                    and assignment.allow_resubmit)
    shown = grade or previous
    started_with = box_text(assignment, submission)
    # After an error the box shows what was typed; asking about a short essay, what was sent (a
    # file's text too: the confirmation sends the box). It still started from what the page first gave.
    if error:
        text = request.form.get("text", "")
    elif not short_question:
        text = started_with
    text_start = (request.form.get("text_start") if error or short_question else None) or box_digest(started_with)
    waiting = submission is not None and not grade and not returned
    return render_template("coursework/student.html", assignment=assignment, submission=submission, grade=grade,
                           previous=previous, returned=returned,
                           waiting_note=student_status.waiting_note(assignment, submission) if waiting else "",
                           page_state=student_status.page_state(assignment, submission) if waiting else "",
                           ai_label=bool(shown and shown.source in AI_SOURCES and assignment.show_ai_label),
                           can_submit=can_submit, error=error, error_fields=error_fields, accept=ACCEPT_ATTR, text=text, text_start=text_start,
                           prefilled=bool(started_with), short_question=short_question,
                           short_ok=box_digest(text) if short_question else "",
                           refused_text=refused_text if not can_submit else ""), 400 if error else 200


def box_text(assignment: Assignment, submission: Submission | None) -> str:
    """What the hand-in box starts with: the current version, wherever a new one may replace it (a
    returned essay is revised where it stands; a typo in a version handed in is fixed without
    pasting it all again). The page already carries that text (up to GRADELOOP_MAX_ESSAY_CHARS) in
    "Show what you handed in", so even the longest essay only doubles a page that size."""
    if submission is None or submission.status == SubmissionStatus.GRADED:
        return ""
    if submission.status == SubmissionStatus.RETURNED or assignment.allow_resubmit:
        return submission.text
    return ""


def _shows_shortly(platform_id: int) -> str:
    """The hand-in was stored but the gradebook did not hear of it yet: the worker tells it, or,
    while no worker takes gradebook work (`worker_presence`), nothing does until one starts. The
    student is not the one to start it: their teacher sees the essay in Gradeloop either way."""
    name = lms_words.product_name(platform_id)
    if worker_presence.serves(worker_presence.GRADEBOOK):
        return f" {name} will show it in your grades shortly." if name else " Your course page will show it shortly."
    slow = (f"{name} may take a while to show it in your grades" if name
            else "Your course page may take a while to show it")
    return f" {slow}; your teacher can already see it in Gradeloop."


def _refusal(exc: SubmissionRefused, submission: Submission | None) -> str:
    """The refusal as the student should read it. The form of a returned essay says so
    (`revising`): if the essay is graded now, the teacher took the return back while the student
    was revising, which the plain "already graded" would leave unexplained."""
    if (request.form.get("revising") and submission is not None
            and submission.status == SubmissionStatus.GRADED):
        return ("Your teacher took back the return for revision while you were working, so your essay keeps "
                "its grade and this version was not handed in. Ask your teacher if you still want to hand it in.")
    return str(exc)
