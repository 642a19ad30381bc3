"""`gradebook.sync` -> the LMS gradebook (AGS) through the coursework engineer's client.

`lti_app.lms.gradebook.process_sync` is idempotent (skips a grade already posted), so a retry or a
requeued dead letter never posts a score twice. `LmsTemporaryError` (5xx/timeout) is retried with
backoff; `LmsPermanentError` (4xx) is dead-lettered at once with the LMS's own message. A grade
another attempt is posting right now is deferred, not retried.
"""
from __future__ import annotations

from worker.errors import Deferred, PermanentError
from worker.handlers import handles


# How soon to look again at a grade another attempt is posting (it ends within the LMS's answer,
# or its claim goes stale after `post_claims.stale_after()`).
BEING_POSTED_DELAY_S = 30.0


@handles("gradebook.sync")
def sync_gradebook(job) -> None:
    if not any(job.payload.get(k) for k in ("grade_id", "submission_id", "line_item")):
        raise PermanentError("gradebook.sync needs a grade_id, a submission_id or line_item")
    from lti_app.lms import gradebook   # imported here: the web/LMS stack loads only when needed
    from lti_app.lms.post_claims import BeingPosted

    try:
        gradebook.process_sync(job.payload)
    except BeingPosted as exc:
        # Not a failure: the web request is posting this grade now. As a retry it would use up the
        # attempts (about 30 s of back-off) long before a slow or dead poster's claim goes stale,
        # and the grade's one durable event would end as a dead letter.
        raise Deferred(str(exc), delay=BEING_POSTED_DELAY_S) from exc
