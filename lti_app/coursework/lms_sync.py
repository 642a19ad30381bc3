"""Synchronous, fail-soft gradebook pushes right after a request commits.

The durable path is the `gradebook.sync` outbox event recorded in the same transaction as the
grade or submission: the worker processes it even if this attempt fails or the process dies.
This immediate attempt only makes the LMS current without waiting for a worker; both paths call
the same idempotent `lti_app.lms.gradebook` functions, so doing both is harmless.
"""
from __future__ import annotations

import logging

from lti_app.extensions import db
from lti_app.lms import gradebook
from lti_app.lms.errors import LmsError

log = logging.getLogger(__name__)


def attempt(function, *args) -> str | None:
    """Run a gradebook function now; None on success, else the reason in words (never raises)."""
    try:
        function(*args)
    except LmsError as exc:
        db.session.rollback()
        return str(exc)
    except Exception:   # a page must never fail because the LMS or network misbehaved
        log.exception("gradebook sync %s%s failed", getattr(function, "__name__", function), args)
        db.session.rollback()
        return "Gradeloop could not reach the LMS gradebook just now; it will try again."
    return None


def push_grade_now(grade_id: int) -> str | None:
    return attempt(gradebook.push_grade, grade_id)


def push_submission_now(submission_id: int) -> str | None:
    """The worker's own path (`process_sync`), so a course without gradebook access (AGS off) is
    skipped here too: a student must not read that the gradebook "will show it shortly"."""
    return attempt(gradebook.process_sync, {"submission_id": submission_id, "activity_progress": "Submitted",
                                            "grading_progress": "Pending"})
