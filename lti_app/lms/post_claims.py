"""Claims that let exactly one attempt post a grade, or tell the LMS of a hand-in.

The web request posts at once and the worker posts the same `gradebook.sync` event a moment
later (lms_sync); a bulk approval or "Send to the LMS again" can overlap the worker's retry. The
skip checks (`Grade.posted_at`) are only set once the LMS has answered, so both attempts used to
pass them and post: Canvas then shows the teacher's comment twice, and marks a hand-in twice as a
new submission attempt. Each claim is a conditional UPDATE committed before the post.

- A grade's claim (`Grade.post_claimed_at`) and a hand-in's (`Submission.lms_submit_claimed_at`)
  are dropped when the post ends, whatever the outcome; one older than `stale_after()` belongs to
  a process that died mid-post and may be taken over. The loser raises `BeingPosted`: the worker
  defers its event (worker/handlers/gradebook.py) and then finds the post done, or takes it over;
  the web request counts it as sent (lms_sync).
- `Submission.lms_submitted_at` (the version's `submitted_at`, set when the LMS took the hand-in)
  records that the LMS was told about that version: later attempts skip it. A hand-in whose post
  failed without a refusal keeps a stale claim (`end_hand_in`): its answer may have been lost.
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
    """Another attempt is posting this grade, or telling the LMS of this hand-in, right now."""


def stale_after() -> timedelta:
    """How long a claim holds: a post is a token request, perhaps a line-item lookup and
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


def claim_hand_in(submission_id: int, submitted_at: datetime) -> bool:
    """Claim telling the LMS of the version handed in at `submitted_at` (commits); False when it is
    told already or another attempt is telling it (`hand_in_told` says which)."""
    now = utcnow()
    changed = db.session.execute(
        update(Submission).where(Submission.id == submission_id, Submission.submitted_at == submitted_at,
                                 Submission.lms_submitted_at.is_distinct_from(submitted_at),
                                 or_(Submission.lms_submit_claimed_at.is_(None),
                                     Submission.lms_submit_claimed_at < now - stale_after()))
        .values(lms_submit_claimed_at=now), execution_options=NO_SYNC).rowcount
    db.session.commit()
    return bool(changed)


def hand_in_told(submission_id: int, submitted_at: datetime) -> bool:
    told = db.session.scalar(db.select(Submission.lms_submitted_at).where(Submission.id == submission_id))
    return told is not None and told == submitted_at


def end_hand_in(submission_id: int, told: datetime | None, *, maybe_taken: bool = False) -> None:
    """Drop the hand-in's claim; `told`: the version the LMS now has (None: the post failed, and
    the caller rolled back). `maybe_taken`: the post failed without the LMS refusing it (a timeout,
    an outage), so it may have reached the LMS: the claim is left, already stale, as a dead
    process's would be, which tells the next attempt to read the LMS back first
    (`gradebook.push_submission_status`). Commits, with whatever else the caller's session holds."""
    claim = utcnow() - stale_after() - timedelta(seconds=1) if maybe_taken else None
    values = {"lms_submit_claimed_at": claim, **({"lms_submitted_at": told} if told is not None else {})}
    db.session.execute(update(Submission).where(Submission.id == submission_id).values(**values),
                       execution_options=NO_SYNC)
    db.session.commit()
