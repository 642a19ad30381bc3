"""Where a grade stands with the LMS gradebook, as the teacher reads it: the essay list's LMS
column and its banner, and the grading page's notice after a save, from the same grade row, so
that the two pages never disagree about whether the teacher has to act.

- In LMS: posted.
- Waiting for the LMS: the LMS did not answer (down, too slow, asked Gradeloop to slow down) and
  Gradeloop's worker keeps sending it (its `gradebook.sync` event is committed with the grade):
  nothing for the teacher to do. Also a grade not tried because that LMS is quiet (`lms_quiet`),
  or one not answered for longer than the quiet lasts (no worker has sent it).
- Held in Gradeloop: the same, but no healthy worker takes gradebook work (`worker_presence`):
  nothing sends it until the Gradeloop administrator starts one, so the pages say that instead of
  "nothing for you to do".
- Not sent: the LMS refused it, or the worker stopped trying; the teacher acts (the words say how),
  and "Send to the LMS again" tries once more.
- Sending: saved a moment ago, its post under way.
"""
from __future__ import annotations

from datetime import timedelta, timezone

from lti_app import worker_presence
from lti_app.coursework import lms_quiet
from lti_app.models import Grade
from lti_app.models.base import utcnow

IN_LMS = "In LMS"
SENDING = "Sending"
WAITING = "Waiting for the LMS"
HELD = "Held in Gradeloop"
NOT_SENT = "Not sent"

RETRY_MARK = "will try again."
"""How every temporary LMS failure's words end (`client.raise_for_status`, `lms_sync`); the worker
reads the same mark on `Grade.post_error` to say it stopped trying (`worker/handlers/gradebook`)."""

# Not "the LMS is down": a grade may also wait because Gradeloop's worker has not sent it yet.
WAITING_WORDS = ("The LMS gradebook has not taken this grade yet. Gradeloop keeps sending it on its own until "
                 "the LMS takes it, so there is nothing for you to do.")
NO_WORKER = "Gradeloop's background worker, which sends grades to the LMS, is not running"
HELD_WORDS = (f"The LMS gradebook does not have this grade yet, and it is not being sent: {NO_WORKER}. The grade "
              "is safe in Gradeloop. Ask your Gradeloop administrator to start the worker, which then sends it; "
              "meanwhile \u201cSend to the LMS again\u201d on the essay list sends it once the LMS answers.")
WORDS = {WAITING: WAITING_WORDS, HELD: HELD_WORDS}
"""What the grading page and the essay list's LMS column say under a grade in these states."""


def retried(post_error: str | None) -> bool:
    """Whether a grade's `post_error` is a temporary failure that Gradeloop still retries."""
    return (post_error or "").endswith(RETRY_MARK)


def state(grade: Grade, *, quiet: bool, sent: bool = True) -> str:
    """The grade's state (one of the names above). `quiet`: its LMS did not answer this process a
    moment ago (`lms_quiet.is_quiet`); `sent`: a worker sends waiting grades (`worker_sends`)."""
    if grade.posted_at is not None:
        return IN_LMS
    if grade.post_error and not retried(grade.post_error):
        return NOT_SENT
    created = grade.created_at if grade.created_at.tzinfo else grade.created_at.replace(tzinfo=timezone.utc)
    stale = utcnow() - created > timedelta(seconds=lms_quiet.QUIET_S)
    if not (grade.post_error or quiet or stale):
        return SENDING
    return WAITING if sent else HELD


def worker_sends() -> bool:
    """Whether a healthy worker sends the grades the LMS has not taken (`worker_presence`)."""
    return worker_presence.serves(worker_presence.GRADEBOOK)


def state_of(grade: Grade) -> str:
    """`state` of one grade, its LMS's quiet and the workers looked up. After a post that did not go
    through, WAITING means Gradeloop keeps sending it and HELD that nothing does: the page that
    saved it says which (`saved_words`), as the essay list will."""
    found = state(grade, quiet=lms_quiet.is_quiet(lms_quiet.platform_of_grade(grade.id)))
    return HELD if found == WAITING and not worker_sends() else found


def banner(not_sent: int, waiting: int, held: int = 0, scored: bool = False) -> str:
    """The essay list's words above "Send to the LMS again" (empty when every grade is in the LMS
    or on its way): grades that need the teacher apart from those Gradeloop is still sending, and
    those nothing sends while no worker runs. `scored`: a worker would score the assignment's new
    essays (`gradebook.model_scores`)."""
    words = []
    if not_sent:
        words.append(f"{_grades(not_sent)} {_are(not_sent)} not in the LMS gradebook, and Gradeloop is not "
                     "trying again: \u201cNot sent\u201d below says why.")
    if held:
        words.append(f"{_grades(held, ' more' if not_sent else '')} {_are(held)} not in the LMS gradebook and not "
                     f"being sent: {NO_WORKER}. {'They are' if held != 1 else 'It is'} safe in Gradeloop. Ask your "
                     f"Gradeloop administrator to start the worker{_unscored(scored)}; \u201cSend to the LMS again\u201d "
                     f"sends {'them' if held != 1 else 'it'} once the LMS answers.")
    if waiting:
        more = " more" if not_sent else ""
        words.append(f"{_grades(waiting, more)} {_are(waiting)} waiting for the LMS; Gradeloop keeps sending "
                     f"{'them' if waiting != 1 else 'it'} on its own.")
        if not not_sent:
            words.append("There is nothing you need to do, but once the LMS works you can send "
                         f"{'them' if waiting != 1 else 'it'} now.")
    return " ".join(words)


def _unscored(scored: bool) -> str:
    """What else waits for the worker, when nothing scores new essays either. Not said where no
    essay would be scored with a worker either (auto-feedback off, or no course model yet)."""
    if not scored or worker_presence.serves(worker_presence.SCORING):
        return ""
    return " (until then, new essays are not scored either)"


def _grades(count: int, more: str = "") -> str:
    return f"{count}{more} grade{'s' if count != 1 else ''}"


def _are(count: int) -> str:
    return "are" if count != 1 else "is"


SAVED_WAITING = ("Grade saved in Gradeloop. The LMS gradebook is not answering right now, so Gradeloop keeps "
                 "sending the grade on its own until it does, and there is nothing for you to do. Meanwhile the "
                 f"essay list shows it as \u201c{WAITING}\u201d.")
SAVED_HELD = ("Grade saved in Gradeloop, but the LMS gradebook does not have it yet: the LMS did not take it just "
              f"now, and {NO_WORKER}, so nothing sends it later. The grade is safe in Gradeloop. Ask your Gradeloop "
              "administrator to start the worker; meanwhile the essay list shows the grade as "
              f"\u201c{HELD}\u201d, and \u201cSend to the LMS again\u201d there sends it once the LMS answers.")


def saved_words(grade_state: str) -> str:
    """The notice after a save whose post did not go through, for a grade in `grade_state` (not
    NOT_SENT, which has the LMS's own words)."""
    return SAVED_HELD if grade_state == HELD else SAVED_WAITING


def superseded_words(what: str, *, to_lms: bool) -> str:
    """The notice after a grade was `what` ("saved", "approved", ...) when another grader (or another
    tab) saved a newer grade of the essay before this one reached the LMS: this one is not sent
    over the newer one (`gradebook._post_grade`). `to_lms`: a student's essay (an imported one has
    no LMS gradebook)."""
    lms = ", and the one Gradeloop sends to the LMS gradebook" if to_lms else ""
    return (f"Grade {what}, but a newer grade for this essay was saved meanwhile. The newer grade is now the essay's "
            f"grade{lms}; yours is kept under \u201cEarlier grades\u201d on the essay's page.")


def queued_words(count: int, rest: bool = True) -> str:
    """How "Send to the LMS again" (or approving several proposals) ends when it leaves `count`
    grades to the worker (`lms_sync.Resent`): `rest` when others of the same click were sent or
    refused, so that these are "the other" ones."""
    them = "them" if count != 1 else "it"
    if rest:
        which = f"the other {count}" if count != 1 else "the other one"
    else:
        which = f"all {count}" if count != 1 else them
    if worker_sends():
        return f"{which[0].upper()}{which[1:]} {_are(count)} queued; Gradeloop keeps sending {them} on its own."
    return (f"Nothing sends {which if rest else them} later: {NO_WORKER}. {'They are' if count != 1 else 'It is'} "
            f"safe in Gradeloop; send {them} again once the LMS answers, or ask your Gradeloop administrator to "
            "start the worker.")
