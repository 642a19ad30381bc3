"""Dead letters: messages that failed for good, kept as `DeadLetter` rows teachers/admins can see
(only there: see `worker.topology` on the retired broker copies), and re-queueable (`requeue`, `gradeloop deadletters requeue ID`);
the scheduler deletes them after `GRADELOOP_DEAD_LETTER_DAYS` (`prune`)."""
from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import select

from lti_app.extensions import db
from lti_app.models import Assignment, DeadLetter
from lti_app.models.base import utcnow
from lti_app.routing import MAX_ID
from worker import relay

log = logging.getLogger("gradeloop.worker.deadletters")

# Enough for any reason the worker writes (an LMS's refusal quotes 300 characters of its answer);
# an exception's text is free text that may quote what it was working on.
REASON_MAX = 1000
KEEP_DAYS = 90   # GRADELOOP_DEAD_LETTER_DAYS: a term's holidays, and the failure is still there to see
MAX_NESTING = 20  # a message is an envelope with a flat payload: 2 levels


def _assignment_id(message) -> int | None:
    payload = message.get("payload") if isinstance(message, dict) else None
    value = payload.get("assignment_id") if isinstance(payload, dict) else None
    # Checked before the query: the database refuses a number beyond its ids (SQLite OverflowError,
    # PostgreSQL NumericValueOutOfRange), and a dead letter that cannot be written never leaves.
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_ID \
            and db.session.get(Assignment, value):
        return value
    return None


def _storable(value, depth: int = 0):
    """`value` with every string made storable: a lone surrogate (valid JSON, "\\ud800") cannot be
    encoded for the database and PostgreSQL refuses NUL in text. Whatever a message holds, its
    dead letter must be writable: nesting deep enough to break the JSON encoder is cut too."""
    if isinstance(value, str):
        return value.encode("utf-8", "replace").decode("utf-8").replace("\x00", "\ufffd")
    if isinstance(value, (dict, list)) and depth >= MAX_NESTING:
        return "(nested too deeply to keep)"
    if isinstance(value, dict):
        return {_storable(k, depth + 1): _storable(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [_storable(v, depth + 1) for v in value]
    return value


def dead_letter(message, *, message_id: str, queue: str, routing_key: str, reason: str,
                attempts: int) -> DeadLetter:
    """Record the failure in the caller's transaction (committed with the ack decision)."""
    stored = _storable(message if isinstance(message, dict) else {"raw": message})
    message_id, reason = _storable(message_id[:64]), _storable(reason[:REASON_MAX])
    row = DeadLetter(message_id=message_id, queue=queue, routing_key=routing_key, payload=stored,
                     reason=reason, attempts=min(attempts, MAX_ID), assignment_id=_assignment_id(stored))
    db.session.add(row)
    db.session.flush()
    log.warning("event=dead_lettered dead_letter_id=%s message_id=%s queue=%s attempts=%s reason=%r",
                row.id, message_id, queue, attempts, reason[:300])
    return row


def list_dead_letters(assignment_id: int | None = None, include_requeued: bool = False,
                      limit: int = 100) -> list[DeadLetter]:
    query = select(DeadLetter).order_by(DeadLetter.id.desc()).limit(limit)
    if assignment_id is not None:
        query = query.where(DeadLetter.assignment_id == assignment_id)
    if not include_requeued:
        query = query.where(DeadLetter.requeued_at.is_(None))
    return list(db.session.scalars(query))


def requeue(dead_letter_id: int) -> DeadLetter:
    """Send the message again with a fresh attempt budget; commits. Raises ValueError if impossible."""
    row = db.session.get(DeadLetter, dead_letter_id)
    if row is None:
        raise ValueError(f"no dead letter {dead_letter_id}")
    if row.requeued_at is not None:
        raise ValueError(f"dead letter {dead_letter_id} was already requeued at {row.requeued_at:%Y-%m-%d %H:%M}")
    message = row.payload if isinstance(row.payload, dict) else {}
    if "event_id" not in message or "type" not in message:
        raise ValueError(f"dead letter {dead_letter_id} is not a valid event (it failed validation: "
                         f"{row.reason}); fix the sender instead")
    relay.enqueue({**message, "attempt": 0}, row.routing_key)
    row.requeued_at = utcnow()
    db.session.commit()
    log.info("event=dead_letter_requeued dead_letter_id=%s message_id=%s", row.id, row.message_id)
    return row


def prune(keep_days: int) -> int:
    """Delete the dead letters older than `keep_days` (0: none); returns how many. Their reason is
    an error's text and their message names an essay or grade, so they must not outlive the data
    for ever; a grade that never reached the LMS still says so on its own page (`post_error`),
    and *Send to the LMS again* finds it without its dead letter."""
    if not keep_days:
        return 0
    cutoff = utcnow() - timedelta(days=keep_days)
    deleted = db.session.execute(db.delete(DeadLetter).where(DeadLetter.created_at < cutoff)).rowcount
    db.session.commit()
    if deleted:
        log.info("event=dead_letters_pruned count=%s keep_days=%s", deleted, keep_days)
    return deleted
