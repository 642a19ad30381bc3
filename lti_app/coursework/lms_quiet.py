"""Which LMSs did not answer this web process a moment ago, so that requests stop waiting on them.

During an LMS outage every inline gradebook call waits the whole HTTP timeout
(GRADELOOP_HTTP_TIMEOUT, 10 s by default; a grade post may take a token, a column and a score
call): a teacher grading through it waited that long on every save, a student on every hand-in.
After a temporary failure (timeout, refused connection, HTTP 5xx) the platform is *quiet* for
`QUIET_S`: inline posts for it are not tried and the worker's committed `gradebook.sync` event
sends them, as it does for any failed post. Any later inline success ends the quiet at once.

Per process and in memory on purpose: a restart or another web process tries again, and the
worker never reads this (it retries on its own schedule).
"""
from __future__ import annotations

import threading
import time

from flask import current_app

from lti_app.extensions import db
from lti_app.models import Assignment, Course, Grade, Submission

QUIET_S = 60.0

_lock = threading.RLock()


def _until() -> dict[int, float]:
    """This app's {platform id: monotonic time the quiet ends}."""
    with _lock:
        return current_app.extensions.setdefault("gradeloop_quiet_lms", {})


def platform_of_assignment(assignment_id: int) -> int | None:
    return db.session.scalar(db.select(Course.platform_id).join(Assignment, Assignment.course_id == Course.id)
                             .where(Assignment.id == assignment_id))


def platform_of_submission(submission_id: int) -> int | None:
    return db.session.scalar(db.select(Course.platform_id).join(Assignment, Assignment.course_id == Course.id)
                             .join(Submission, Submission.assignment_id == Assignment.id)
                             .where(Submission.id == submission_id))


def platform_of_grade(grade_id: int) -> int | None:
    submission_id = db.session.scalar(db.select(Grade.submission_id).where(Grade.id == grade_id))
    return platform_of_submission(submission_id) if submission_id is not None else None


def is_quiet(platform_id: int | None) -> bool:
    if platform_id is None:
        return False
    with _lock:
        ends = _until().get(platform_id)
        return ends is not None and time.monotonic() < ends


def failed(platform_id: int | None) -> None:
    if platform_id is not None:
        with _lock:
            _until()[platform_id] = time.monotonic() + QUIET_S


def answered(platform_id: int | None) -> None:
    if platform_id is not None:
        with _lock:
            _until().pop(platform_id, None)
