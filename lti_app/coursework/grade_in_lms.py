"""Where a grade stands with the LMS gradebook, as the teacher reads it: the essay list's LMS
column and its banner, and the grading page's notice after a save, from the same grade row, so
that the two pages never disagree about whether the teacher has to act.

- In LMS: posted.
- Waiting for the LMS: the LMS did not answer (down, too slow, asked Gradeloop to slow down) and
  Gradeloop's worker keeps sending it (its `gradebook.sync` event is committed with the grade):
  nothing for the teacher to do. Also a grade not tried because that LMS is quiet (`lms_quiet`),
  or one not answered for longer than the quiet lasts (no worker has sent it).
- Not sent: the LMS refused it, or the worker stopped trying; the teacher acts (the words say how),
  and "Send to the LMS again" tries once more.
- Sending: saved a moment ago, its post under way.
"""
from __future__ import annotations

from datetime import timedelta, timezone

from lti_app.coursework import lms_quiet
from lti_app.models import Grade
from lti_app.models.base import utcnow

IN_LMS = "In LMS"
SENDING = "Sending"
WAITING = "Waiting for the LMS"
NOT_SENT = "Not sent"

RETRY_MARK = "will try again."
"""How every temporary LMS failure's words end (`client.raise_for_status`, `lms_sync`); the worker
reads the same mark on `Grade.post_error` to say it stopped trying (`worker/handlers/gradebook`)."""

# Not "the LMS is down": a grade may also wait because Gradeloop's worker has not sent it yet.
WAITING_WORDS = ("The LMS gradebook has not taken this grade yet. Gradeloop keeps sending it on its own until "
                 "the LMS takes it, so there is nothing for you to do.")


def retried(post_error: str | None) -> bool:
    """Whether a grade's `post_error` is a temporary failure that Gradeloop still retries."""
    return (post_error or "").endswith(RETRY_MARK)


def state(grade: Grade, *, quiet: bool) -> str:
    """The grade's state (one of the names above). `quiet`: its LMS did not answer this process a
    moment ago (`lms_quiet.is_quiet`)."""
    if grade.posted_at is not None:
        return IN_LMS
    if grade.post_error and not retried(grade.post_error):
        return NOT_SENT
    created = grade.created_at if grade.created_at.tzinfo else grade.created_at.replace(tzinfo=timezone.utc)
    stale = utcnow() - created > timedelta(seconds=lms_quiet.QUIET_S)
    return WAITING if grade.post_error or quiet or stale else SENDING


def state_of(grade: Grade) -> str:
    """`state` of one grade, its LMS's quiet looked up. After a post that did not go through, any
    state but NOT_SENT means Gradeloop keeps sending it: the page that saved it says so, as the
    essay list will."""
    return state(grade, quiet=lms_quiet.is_quiet(lms_quiet.platform_of_grade(grade.id)))


def banner(not_sent: int, waiting: int) -> str:
    """The essay list's words above "Send to the LMS again" (empty when every grade is in the LMS
    or on its way): grades that need the teacher apart from those Gradeloop is still sending."""
    words = []
    if not_sent:
        words.append(f"{_grades(not_sent)} {_are(not_sent)} not in the LMS gradebook, and Gradeloop is not "
                     "trying again: \u201cNot sent\u201d below says why.")
    if waiting:
        more = " more" if not_sent else ""
        words.append(f"{_grades(waiting, more)} {_are(waiting)} waiting for the LMS; Gradeloop keeps sending "
                     f"{'them' if waiting != 1 else 'it'} on its own.")
        if not not_sent:
            words.append("There is nothing you need to do, but once the LMS works you can send "
                         f"{'them' if waiting != 1 else 'it'} now.")
    return " ".join(words)


def _grades(count: int, more: str = "") -> str:
    return f"{count}{more} grade{'s' if count != 1 else ''}"


def _are(count: int) -> str:
    return "are" if count != 1 else "is"


SAVED_WAITING = ("Grade saved in Gradeloop. The LMS gradebook is not answering right now, so Gradeloop keeps "
                 "sending the grade on its own until it does, and there is nothing for you to do. Meanwhile the "
                 f"essay list shows it as \u201c{WAITING}\u201d.")
