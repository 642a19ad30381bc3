"""`gradebook.sync` -> the LMS gradebook (AGS) through the coursework engineer's client.

`lti_app.lms.gradebook.process_sync` is idempotent (skips a grade already posted), so a retry or a
requeued dead letter never posts a score twice. `LmsTemporaryError` (5xx, 429, timeouts) is retried
for `GRADELOOP_LMS_RETRY_HOURS`, no sooner than the LMS's `Retry-After` (`worker.jobs`);
`LmsPermanentError` (4xx) is dead-lettered at once with the refusal. A grade another attempt is
posting right now is deferred, not retried. When a grade's message dies while the grade still says
"Gradeloop will try again", the grade says it stopped instead (`_gave_up`): the teacher's
*Send to the LMS again* is then the way.
"""
from __future__ import annotations

import time

from worker.errors import Deferred, PermanentError
from worker.handlers import handles


# How soon to look again at a grade another attempt is posting (it ends within the LMS's answer,
# or its claim goes stale after `post_claims.stale_after()`).
BEING_POSTED_DELAY_S = 30.0


def _gave_up(job, reason: str) -> None:
    """The grade of a dead `gradebook.sync` stops promising a retry that will not come."""
    from lti_app.coursework.grade_in_lms import retried
    from lti_app.extensions import db
    from lti_app.models import Grade
    from worker.jobs import LMS_GAVE_UP, LMS_SINCE, duration

    grade = db.session.get(Grade, job.payload.get("grade_id") or 0)
    if grade is None or grade.posted_at is not None or (grade.post_error and not retried(grade.post_error)):
        return   # sent meanwhile, or its refusal already says why
    # (No error at all: its own post was never tried, or failed with something other than the
    # LMS; it read as waiting, and nothing sends it now.)
    since = job.envelope.get(LMS_SINCE)
    # Only a message that ran out of the LMS's own budget blames the LMS; one that died otherwise
    # (the worker kept crashing on it, the database failing) says only that sending stopped.
    stopped = (f"The LMS kept failing, and Gradeloop stopped trying after {duration(time.time() - since)}"
               if reason.startswith(LMS_GAVE_UP) and isinstance(since, (int, float))
               else "Gradeloop stopped trying to send it")
    grade.post_error = f"{stopped}. Use \"Send to the LMS again\" on the essays list once the LMS works."


@handles("gradebook.sync", on_dead=_gave_up)
def sync_gradebook(job) -> None:
    if not any(job.payload.get(k) for k in ("grade_id", "submission_id", "line_item")):
        raise PermanentError("gradebook.sync needs a grade_id, a submission_id or line_item")
    from lti_app.lms import gradebook   # imported here: the web/LMS stack loads only when needed
    from lti_app.lms.post_claims import BeingPosted

    try:
        gradebook.process_sync(job.payload)
    except BeingPosted as exc:
        # Not a failure: the web request is posting this grade now. As a retry it would use up the
        # attempts (about 30 s of back-off for failures other than the LMS's) long before a slow or dead poster's claim goes stale,
        # and the grade's one durable event would end as a dead letter.
        raise Deferred(str(exc), delay=BEING_POSTED_DELAY_S) from exc
