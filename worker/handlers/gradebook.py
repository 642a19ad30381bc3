"""`gradebook.sync` -> the LMS gradebook (AGS) through the coursework engineer's client.

`lti_app.lms.gradebook.process_sync` is idempotent (skips a grade already posted), so a retry or a
requeued dead letter never posts a score twice. `LmsTemporaryError` (5xx/timeout) is retried with
backoff; `LmsPermanentError` (4xx) is dead-lettered at once with the LMS's own message.
"""
from __future__ import annotations

from worker.errors import PermanentError
from worker.handlers import handles


@handles("gradebook.sync")
def sync_gradebook(job) -> None:
    if not job.payload.get("grade_id") and not job.payload.get("submission_id"):
        raise PermanentError("gradebook.sync needs a grade_id or a submission_id")
    from lti_app.lms import gradebook   # imported here: the web/LMS stack loads only when needed

    gradebook.process_sync(job.payload)
