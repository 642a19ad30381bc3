"""What the LMS gradebook already holds for a student, read back through the AGS results service
before a grade is sent again.

A grade post can reach the LMS without its answer reaching Gradeloop: the answer came after the
HTTP timeout, or the process died before recording it. Sent again, the same grade shows the
teacher's comment twice in Canvas (each score's comment becomes a submission comment), and Moodle
refuses it for good (HTTP 409: it refuses a score whose timestamp is not in a later whole second
than the grade it holds). So a grade whose last attempt failed, or that Moodle refused as older,
is first looked up: when the LMS holds this score and comment, the grade is in the LMS.
"""
from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone

from lti_app.lms import ags
from lti_app.lms.client import LmsClient
from lti_app.lms.errors import LmsPermanentError


def result_of(client: LmsClient, lineitem_url: str, user_sub: str) -> dict | None:
    """The student's result in the column, or None when the LMS holds none or will not say (no
    results scope: the caller then does what it would have done without looking). A temporary
    failure is raised: the LMS is not answering, a post would fail too."""
    try:
        found = ags.results(client, lineitem_url, user_sub)
    except LmsPermanentError:
        return None
    mine = [r for r in found if isinstance(r, dict) and str(r.get("userId", user_sub)) == user_sub]
    return mine[-1] if mine else None


def held_score(result: dict | None, score_max: float) -> float | None:
    """The score the LMS holds, on the grade's scale (LMSs give it on the column's maximum);
    None when it holds no score (only a hand-in, or nothing)."""
    if not result or not isinstance(result.get("resultScore"), (int, float)):
        return None
    maximum = result.get("resultMaximum")
    scale = score_max / maximum if isinstance(maximum, (int, float)) and maximum > 0 else 1.0
    return float(result["resultScore"]) * scale


def same_score(a: float | None, b: float, score_max: float) -> bool:
    # LMSs round what they store (Moodle to 5 decimals, on the column's maximum).
    return a is not None and abs(a - b) <= 1e-4 * max(1.0, score_max)


def _text(value) -> str:
    return " ".join(str(value or "").split())


def holds(result: dict | None, score: float, score_max: float, comment: str) -> bool:
    """Whether the LMS holds this score with this comment (compared without regard to line
    breaks and spacing, which LMSs may change; a missing comment is an empty one)."""
    return (same_score(held_score(result, score_max), score, score_max)
            and _text(result.get("comment")) == _text(comment))


def holds_hand_in(result: dict | None, submitted_at: datetime) -> bool:
    """Whether the LMS's result is the hand-in of the version handed in at `submitted_at`, as
    Canvas shows it: its results carry the Canvas submission extension of the last score it took
    (`Lti::Result#extensions`, merged in by `Lti::IMS::ResultsSerializer`), with the version's
    `submitted_at`. Any later post replaces it (a grade says `new_submission: false`), and other LMSs
    show no such thing: then False, and the hand-in is told again, as before."""
    ext = result.get(ags.CANVAS_SUBMISSION_EXT) if isinstance(result, dict) else None
    if not isinstance(ext, dict) or ext.get("new_submission") not in (True, "true") \
            or not isinstance(ext.get("submitted_at"), str):
        return False
    try:
        told = datetime.fromisoformat(ext["submitted_at"].replace("Z", "+00:00"))
    except ValueError:
        return False
    mine = submitted_at if submitted_at.tzinfo is not None else submitted_at.replace(tzinfo=timezone.utc)
    # Sent in milliseconds (`ags.iso`): the stored version's time may have more digits.
    return told.tzinfo is not None and abs((told - mine).total_seconds()) < 0.001


def after_held(result: dict | None, now: datetime | None = None) -> datetime:
    """A timestamp the LMS takes as newer than what it holds: the next whole second after now,
    or after the time the LMS gives for its grade (Moodle does, on its own clock)."""
    latest = now or datetime.now(timezone.utc)
    if result and isinstance(result.get("timestamp"), str):
        try:
            held_at = datetime.fromisoformat(result["timestamp"].replace("Z", "+00:00"))
        except ValueError:
            held_at = None
        if held_at is not None and held_at.tzinfo is not None:
            latest = max(latest, held_at)
    return next_second(latest)


def next_second(ts: datetime) -> datetime:
    """The start of the whole second after `ts` (Moodle compares whole seconds)."""
    return datetime.fromtimestamp(math.floor(ts.timestamp()), tz=timezone.utc) + timedelta(seconds=1)
