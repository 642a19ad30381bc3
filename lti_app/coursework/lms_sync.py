"""Synchronous, fail-soft gradebook pushes right after a request commits.

The durable path is the `gradebook.sync` outbox event recorded in the same transaction as the
grade or submission: the worker processes it even if this attempt fails or the process dies.
This immediate attempt only makes the LMS current without waiting for a worker; both paths call
the same idempotent `lti_app.lms.gradebook` functions, so doing both is harmless.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field

from flask import current_app

from lti_app.coursework import grade_in_lms, lms_quiet
from lti_app.events import record_event
from lti_app.extensions import db
from lti_app.lms import gradebook
from lti_app.lms.errors import LmsError, LmsTemporaryError
from lti_app.lms.post_claims import BeingPosted
from lti_app.models import Assignment, Grade, Submission

log = logging.getLogger(__name__)

RESEND_BUDGET_S = 10.0
"""Seconds "Send to the LMS again" keeps posting grades inside the teacher's request. Each LMS call
may wait the whole HTTP timeout (GRADELOOP_HTTP_TIMEOUT), so posting hundreds of grades in one
request would outlast a reverse proxy's timeout (often 30-60 s) and the teacher would see a gateway
error; past this budget the remaining grades go to the worker through the outbox instead."""


def failure(function, *args, platform_id: int | None = None) -> LmsError | None:
    """Run a gradebook function now; None on success, else the failure (never raises). Anything
    that is not an `LmsError` counts as temporary, as the worker treats it. With `platform_id`
    the outcome is remembered for that LMS (`lms_quiet`): a temporary failure quietens it, an
    answered post ends its quiet."""
    try:
        if function(*args) == gradebook.POSTED:
            lms_quiet.answered(platform_id)
    except BeingPosted:
        # The worker (or another tab) is posting this very grade or hand-in now; should that fail,
        # the worker's event posts it. For this request it is sent.
        db.session.rollback()
        return None
    except LmsError as exc:
        db.session.rollback()
        if exc.temporary:
            lms_quiet.failed(platform_id)
        return exc
    except Exception:   # a page must never fail because the LMS or network misbehaved
        log.exception("gradebook sync %s%s failed", getattr(function, "__name__", function), args)
        db.session.rollback()
        lms_quiet.failed(platform_id)
        return LmsTemporaryError("Gradeloop could not reach the LMS gradebook just now; it will try again.")
    return None


QUIET_WORDS = ("The LMS gradebook did not answer Gradeloop a moment ago, so this was not sent now; "
               "Gradeloop will send it when the LMS answers.")


def inline(platform_id: int | None, function, *args) -> LmsError | None:
    """`failure(function, *args)` inside a request, unless that LMS did not answer a moment ago
    (`lms_quiet`): then nothing is tried and the temporary problem says so. Callers have committed
    the `gradebook.sync` event that lets the worker send it."""
    if lms_quiet.is_quiet(platform_id):
        return LmsTemporaryError(QUIET_WORDS)
    return failure(function, *args, platform_id=platform_id)


def push_grade_now(grade_id: int) -> str | None:
    problem = inline(lms_quiet.platform_of_grade(grade_id), gradebook.push_grade, grade_id)
    return str(problem) if problem is not None else None


INLINE_HAND_INS = 2
"""Hand-ins per web process that may wait on the LMS inside the student's request (setting
GRADELOOP_LMS_INLINE_POSTS). At a deadline a whole year group hands in within a minute while the
LMS, busy with every other class, may take seconds per score post: unbounded, those waits held
every request thread (4 per process), the hand-ins queued behind them, and students waited past a
minute or gave up on an essay that was stored (docs/benchmarks.md, "Deadline rush"). Past this
many, a hand-in leaves its post to the worker's outbox event, committed with it."""
_slots_lock = threading.Lock()


def _inline_slot() -> threading.BoundedSemaphore:
    """This app's (per process) semaphore of inline hand-in posts."""
    slots = current_app.extensions.get("gradeloop_inline_hand_ins")
    if slots is None:
        with _slots_lock:
            slots = current_app.extensions.setdefault("gradeloop_inline_hand_ins", threading.BoundedSemaphore(
                current_app.config.get("GRADELOOP_LMS_INLINE_POSTS", INLINE_HAND_INS)))
    return slots


def push_submission_now(submission_id: int) -> str | None:
    """The worker's own path (`process_sync`), so a course without gradebook access (AGS off) is
    skipped here too: a student must not read that the gradebook "will show it shortly". The
    hand-in is claimed before its post (`post_claims`): the worker's event, arriving while this
    post is under way, waits for it, and posts it itself should this post fail. While
    `INLINE_HAND_INS` others wait on the LMS, not tried here: the worker's event posts it."""
    platform_id = lms_quiet.platform_of_submission(submission_id)
    if lms_quiet.is_quiet(platform_id):
        submission = db.session.get(Submission, submission_id)
        return QUIET_WORDS if gradebook.has_gradebook(db.session.get(Assignment, submission.assignment_id)) else None
    slots = _inline_slot()
    if not slots.acquire(blocking=False):
        if grade_in_lms.worker_sends():
            return "Other hand-ins are waiting on the LMS; Gradeloop's worker will tell it of this one."
        return f"Other hand-ins are waiting on the LMS, so this one was not sent now, and {grade_in_lms.NO_WORKER}."
    try:
        problem = inline(platform_id, gradebook.process_sync, {
            "submission_id": submission_id, "activity_progress": "Submitted", "grading_progress": "Pending"})
        return str(problem) if problem is not None else None
    finally:
        slots.release()


COLUMN_NOT_RETRIED = ("The LMS did not answer Gradeloop just now, and nothing tries again later: "
                      f"{grade_in_lms.NO_WORKER}. Ask your Gradeloop administrator to start the worker, which "
                      "then brings the column in line with the assignment.")
"""`sync_line_item_now`'s words for a temporary failure while no worker takes gradebook work: the
LMS's own words end with "Gradeloop will try again", which nothing would."""


def sync_line_item_now(assignment_id: int) -> str | None:
    """Bring the LMS column's title and maximum in line now; None on success, else the reason in
    words. A temporary failure is not the end of it: a `line_item` event (committed) lets the
    worker retry, since a column left at another maximum scales every grade students read there;
    while no worker takes gradebook work, `COLUMN_NOT_RETRIED` says so instead."""
    problem = inline(lms_quiet.platform_of_assignment(assignment_id), gradebook.sync_line_item, assignment_id)
    if problem is None:
        return None
    if not problem.temporary:   # refused, or no gradebook access: a retry would only fail again
        return str(problem)
    record_event("gradebook.sync", {"assignment_id": assignment_id, "line_item": True})
    db.session.commit()
    if not grade_in_lms.worker_sends():
        return COLUMN_NOT_RETRIED
    said = str(problem)   # the client's temporary errors already say it
    return said if grade_in_lms.retried(said) else f"{said} Gradeloop will try again."


@dataclass
class Resent:
    """What `push_grades_now` did: `sent` posted, `deleted` grades whose essay was deleted while
    they were being sent (an erasure, a course's data deleted), `replaced` grades a newer grade of
    their essay replaced while they were being sent (another grader, another tab), `refused` the
    LMS's words for each grade it refused for good, `queued` grades handed to the worker, `problem`
    the temporary failure that stopped the loop (None when the time budget did, or nothing did)."""

    total: int
    sent: int = 0
    deleted: int = 0
    replaced: int = 0
    refused: list[str] = field(default_factory=list)
    queued: int = 0
    problem: str | None = None

    def notice(self) -> tuple[str, str]:
        """(category, words) for the teacher."""
        if self.sent == self.total:
            return "success", f"{self.sent} grade{'s' if self.sent != 1 else ''} sent to the LMS gradebook."
        # One grade, not sent: "0 of 1 grades sent" said it in numbers a teacher has to decode. One
        # replaced may have reached the LMS before the newer one: its own words say what the LMS keeps.
        if self.total != 1:
            words = [f"{self.sent} of {self.total} grades sent."]
        else:
            words = [] if self.replaced else ["The grade was not sent."]
        if self.deleted:
            words.append(self._deleted_words())
        if self.replaced:
            words.append(self._replaced_words())
        if self.refused:
            words.append("The LMS said: " + self.refused[0])
        if self.problem:   # a temporary failure: its words are for the log, not a next step
            words.append("The LMS stopped answering.")
        if self.queued:   # "keeps sending" only while a worker does
            words.append(grade_in_lms.queued_words(self.queued, rest=self.queued < self.total))
        return ("error" if self.refused else "warning"), " ".join(words)

    def _deleted_words(self) -> str:
        """Why `deleted` grades were not sent: Gradeloop keeps neither essay nor grade now, though the
        LMS may have taken the post that was on its way (as the grading page says, `DELETED_MEANWHILE`)."""
        one = self.deleted == 1
        if self.total == 1:
            which = "Its essay was deleted while it was being sent"
        else:
            whose = "its essay was" if one else "their essays were"
            which = f"{self.deleted} {'was' if one else 'were'} not sent: {whose} deleted while on the way"
        it, they = ("it", "it") if one else ("them", "they")
        return (f"{which} (the student's data was erased, or the course's data deleted). The LMS may show {it} "
                f"all the same: remove {it} there if {they} should go too.")

    def _replaced_words(self) -> str:
        """Why `replaced` grades do not count as sent: the newer grade is the essay's grade, and the
        one the LMS keeps (`gradebook._post_grade`), as the grading page says (`superseded_words`)."""
        if self.total == 1:
            return ("A newer grade for this essay was saved meanwhile (by another grader, or in another tab). The "
                    "newer grade is now the essay's grade, and the one Gradeloop sends to the LMS gradebook; this "
                    "one is kept under \u201cEarlier grades\u201d on the essay's page.")
        if self.replaced == 1:
            return ("1 was replaced by a newer grade saved meanwhile (by another grader, or in another tab): that "
                    "newer grade is now the essay's grade, and the one Gradeloop sends to the LMS gradebook; the "
                    "replaced one is kept under \u201cEarlier grades\u201d on the essay's page.")
        return (f"{self.replaced} were replaced by newer grades saved meanwhile (by another grader, or in another "
                "tab): the newer grades are now their essays' grades, and the ones Gradeloop sends to the LMS "
                "gradebook; the replaced ones are kept under \u201cEarlier grades\u201d on each essay's page.")


def push_grades_now(assignment_id: int, grade_ids: list[int], budget_s: float | None = None) -> Resent:
    """Post grades now, but only while that makes sense: stop at the first temporary LMS failure
    (an outage would make every further call wait its timeout too) or once `budget_s` (default
    `RESEND_BUDGET_S`) is used up. Each grade not tried, and the one that failed temporarily, gets
    a fresh `gradebook.sync` outbox event (committed) for the worker, since the grade's earlier
    events may be dead letters by now. A grade the LMS refused for good (4xx) is not queued: the
    worker would dead-letter it at once; its `post_error` tells the teacher why, and pressing the
    button again retries it."""
    budget_s = RESEND_BUDGET_S if budget_s is None else budget_s
    deadline = time.monotonic() + budget_s
    result = Resent(total=len(grade_ids))
    rest: list[int] = []
    # Tried even while the LMS is quiet (the teacher asked for it); the outcome is remembered.
    platform_id = lms_quiet.platform_of_assignment(assignment_id)
    for index, grade_id in enumerate(grade_ids):
        problem = failure(gradebook.push_grade, grade_id, platform_id=platform_id)
        if problem is None:
            # A grade deleted with its essay while its post was on its way ends without a failure
            # (`gradebook._store_outcome`): gone from the database, it was not sent. One a newer
            # grade replaced (before its post, or on its way) ends so too: the newer one is the LMS's.
            grade = db.session.get(Grade, grade_id)
            if grade is None:
                result.deleted += 1
            elif gradebook.latest_grade(grade.submission_id).id != grade_id:
                result.replaced += 1
            else:
                result.sent += 1
        elif problem.temporary:
            result.problem = str(problem)
            rest = grade_ids[index:]
            break
        else:
            result.refused.append(str(problem))
        if time.monotonic() >= deadline:
            rest = grade_ids[index + 1:]
            break
    for grade_id in rest:
        record_event("gradebook.sync", {"assignment_id": assignment_id, "grade_id": grade_id})
    if rest:
        db.session.commit()
    result.queued = len(rest)
    return result
