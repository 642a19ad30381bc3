"""Claims that let exactly one attempt post a grade, or tell the LMS of a hand-in.

The web request posts at once and the worker posts the same `gradebook.sync` event a moment
later (lms_sync); a bulk approval or "Send to the LMS again" can overlap the worker's retry. The
skip checks (`Grade.posted_at`) are only set once the LMS has answered, so both attempts used to
pass them and post: Canvas then shows the teacher's comment twice, and marks a hand-in twice as a
new submission attempt. Each claim is a conditional UPDATE committed before the post.

- A grade's claim (`Grade.post_claimed_at`) is dropped when its post ends, whatever the outcome;
  one older than `stale_after()` belongs to a process that died mid-post and may be taken over.
  The loser raises `BeingPosted`, a temporary error: the worker retries later and then finds the
  grade posted; the web request counts it as sent (lms_sync).
- A hand-in's claim (`Submission.lms_submitted_at` = the version's `submitted_at`) stays: it is
  the record that the LMS was told about that version. It is given back if the post fails.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, update

from lti_app.extensions import db
from lti_app.lms.client import http_timeout
from lti_app.lms.errors import LmsTemporaryError
from lti_app.models import Grade, Submission
from lti_app.models.base import utcnow


# Each claim commits at once, which expires the session's objects anyway; and SQLAlchemy's
# in-Python evaluation of these WHERE clauses cannot compare SQLite's naive times with aware ones.
NO_SYNC = {"synchronize_session": False}


class BeingPosted(LmsTemporaryError):
    """Another attempt is posting this grade right now."""


def stale_after() -> timedelta:
    """How long a grade's claim holds: a post is a token request, perhaps a line-item lookup and
    the score itself, each bounded by the HTTP timeout."""
    return timedelta(seconds=max(120.0, 6 * http_timeout()))


def claim_grade(grade_id: int) -> bool:
    """Claim an unposted grade for this attempt (commits); False when it is posted or claimed."""
    now = utcnow()
    changed = db.session.execute(
        update(Grade).where(Grade.id == grade_id, Grade.posted_at.is_(None),
                            or_(Grade.post_claimed_at.is_(None), Grade.post_claimed_at < now - stale_after()))
        .values(post_claimed_at=now), execution_options=NO_SYNC).rowcount
    db.session.commit()
    return bool(changed)


def release_grade(grade_id: int) -> None:
    """Drop a claim after a failed post (the caller rolled back; commits)."""
    db.session.execute(update(Grade).where(Grade.id == grade_id).values(post_claimed_at=None),
                       execution_options=NO_SYNC)
    db.session.commit()


def claim_hand_in(submission_id: int, submitted_at: datetime) -> tuple[bool, datetime | None]:
    """Claim telling the LMS of the version handed in at `submitted_at` (commits): (whether this
    attempt got it, the previous marker for `release_hand_in`)."""
    previous = db.session.scalar(db.select(Submission.lms_submitted_at).where(Submission.id == submission_id))
    changed = db.session.execute(
        update(Submission).where(Submission.id == submission_id, Submission.submitted_at == submitted_at,
                                 Submission.lms_submitted_at.is_distinct_from(submitted_at))
        .values(lms_submitted_at=submitted_at), execution_options=NO_SYNC).rowcount
    db.session.commit()
    return bool(changed), previous


def release_hand_in(submission_id: int, submitted_at: datetime, previous: datetime | None) -> None:
    """Give the claim back after a failed post (the caller rolled back; commits)."""
    db.session.execute(update(Submission).where(Submission.id == submission_id,
                                                Submission.lms_submitted_at == submitted_at)
                       .values(lms_submitted_at=previous), execution_options=NO_SYNC)
    db.session.commit()
