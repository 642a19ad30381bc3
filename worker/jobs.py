"""Process one delivered message to an outcome, inside its own app context and DB transaction.

Outcomes (the consumer acks all but ERROR):
- DONE: the handler's work and the `processed_messages` row committed together;
- DUPLICATE: that row already existed (a redelivery after the work was committed): skipped;
- RETRY: a copy with attempt+1 is in the outbox, due after exponential backoff with jitter; a
  temporary LMS failure (the LMS down, throttling, timing out) uses no attempt: it is retried for
  `lms_retry_hours` from its first, backing off the same way, never sooner than the LMS's
  `Retry-After`;
- DEFERRED: a copy with the same attempt is in the outbox, due later (e.g. a busy lease);
- DEAD: a `DeadLetter` row: poison messages at once, others after
  `max_attempts` deliveries (or `lms_retry_hours` of LMS failures), and a message whose worker
  died mid-job (killed, out of memory) on more than `max_attempts` deliveries in a row
  (`MessageDelivery`: otherwise it would take down every worker it reaches, for ever);
- ERROR: the bookkeeping itself failed (database down): the message goes back to the broker.
"""
from __future__ import annotations

import logging
import random
import time

from marshmallow import ValidationError
from sqlalchemy.exc import IntegrityError, StatementError

from lti_app.events import EVENT_TYPES, MESSAGE_ID_MAX, UnknownEvent, parse_message
from lti_app.extensions import db
from lti_app.models import MessageDelivery, ProcessedMessage
from lti_app.models.base import utcnow
from worker import relay
from worker.deadletters import dead_letter
from worker.errors import Deferred, asked_wait, is_lms_temporary, is_permanent
from worker.handlers import DEAD_HOOKS, HANDLERS, Job

log = logging.getLogger("gradeloop.worker.jobs")

DONE, DUPLICATE, RETRY, DEFERRED, DEAD, ERROR = "done", "duplicate", "retry", "deferred", "dead", "error"
# A driver's own message can quote a value ('invalid input syntax for type integer: "..."'): enough
# to tell a lock from a lost connection, not a paragraph of an essay.
DRIVER_MESSAGE_MAX = 200
# Envelope fields that carry a run of temporary LMS failures (lti_app.events.EventSchema).
LMS_SINCE, LMS_FAILURES = "lms_failing_since", "lms_failures"
# How a dead letter's reason starts when the LMS's own budget ran out (the gradebook's dead hook
# reads it: only then does it blame the LMS).
LMS_GAVE_UP = "Gradeloop stopped trying after"


def backoff(attempt: int, base: float, cap: float) -> float:
    """Delay before delivery number attempt+2: base * 2^attempt, capped, times U(0.5, 1)."""
    # The exponent stops growing long after any cap is reached: a day of LMS retries counts hundreds.
    return min(cap, base * (2 ** min(attempt, 60))) * random.uniform(0.5, 1.0)


def _reason(exc: BaseException) -> str:
    """What a dead letter and the log say went wrong (`deadletters.dead_letter` caps its length)."""
    if isinstance(exc, ValidationError):
        return f"invalid message: {exc.messages}"
    if isinstance(exc, StatementError):
        return _database_reason(exc)
    return f"{type(exc).__name__}: {exc}"


def _database_reason(exc: StatementError) -> str:
    """The error's type and the first line of the driver's message. Not the statement's values
    (hidden by the engine's `hide_parameters` too), nor what PostgreSQL adds on later lines: its
    DETAIL of a failed constraint is "Failing row contains (...)", the whole row, an essay or a
    teacher's comment with it. Dead letters are kept for weeks and shown on the dashboard."""
    driver = exc.orig
    if driver is None:
        return type(exc).__name__
    first = (str(driver).strip().splitlines() or [""])[0][:DRIVER_MESSAGE_MAX]
    return f"{type(exc).__name__}: ({type(driver).__module__}.{type(driver).__name__}) {first}"


def _message_id(body, message) -> str:
    """The id a message is known by, even an invalid one's. Cut to the id columns' width: a poison
    message's dead letter must be writable whatever id the sender put in it."""
    if isinstance(body, dict) and isinstance(body.get("event_id"), str) and body["event_id"]:
        return body["event_id"][:MESSAGE_ID_MAX]
    props = getattr(message, "properties", None) or {}
    return str(props.get("message_id") or getattr(message, "delivery_tag", "") or "unknown")[:MESSAGE_ID_MAX]


def process(app, message, queue: str, routing_key: str, settings, worker_id: str) -> str:
    """Run the handler for `message` (a kombu Message); never raises."""
    with app.app_context():
        try:
            return _process(app, message, queue, routing_key, settings, worker_id)
        except Exception as exc:  # bookkeeping failed: let the broker redeliver later
            log.exception("event=job_error queue=%s error=%r", queue, exc)
            db.session.rollback()
            time.sleep(1.0)
            return ERROR
        finally:
            db.session.remove()


def _process(app, message, queue, routing_key, settings, worker_id) -> str:
    try:
        body = message.decode()
    except Exception as exc:
        body = {"raw": message.body.decode("utf-8", "replace") if isinstance(message.body, bytes)
                else str(message.body), "decode_error": str(exc)}
        return _poison(body, _message_id(None, message), queue, routing_key, f"undecodable body: {exc}")
    try:
        envelope, event_type, payload = parse_message(body)
        if event_type not in HANDLERS:
            raise UnknownEvent(f"no handler for event type {event_type!r}")
        if EVENT_TYPES[event_type][1] != routing_key:
            raise UnknownEvent(f"{event_type!r} does not belong on the {routing_key} queue")
    except (ValidationError, UnknownEvent) as exc:
        return _poison(body, _message_id(body, message), queue, routing_key, _reason(exc))

    message_id = envelope["event_id"]
    if db.session.get(ProcessedMessage, message_id) is not None:
        log.info("event=duplicate_skipped message_id=%s type=%s", message_id, event_type)
        return DUPLICATE
    attempt = envelope.get("attempt", 0)
    job = Job(app=app, message_id=message_id, event_type=event_type, payload=payload, envelope=envelope,
              attempt=attempt, queue=queue, worker_id=worker_id, settings=settings)
    unfinished = _count_delivery(message_id)
    if unfinished > settings.max_attempts:
        return _died_too_often(job, routing_key, unfinished - 1)
    started = time.monotonic()
    try:
        HANDLERS[event_type](job)
        db.session.add(ProcessedMessage(message_id=message_id, queue=queue))
        _delivered(message_id)
        db.session.commit()
    except Deferred as exc:
        db.session.rollback()
        relay.enqueue(envelope, routing_key, delay=exc.delay)
        _delivered(message_id)
        db.session.commit()
        log.info("event=deferred message_id=%s type=%s delay=%.1f reason=%r", message_id, event_type,
                 exc.delay, str(exc))
        return DEFERRED
    except IntegrityError as exc:
        db.session.rollback()
        if db.session.get(ProcessedMessage, message_id) is not None:
            return DUPLICATE   # another worker committed the same message first
        return _failed(job, exc, routing_key)
    except Exception as exc:
        db.session.rollback()
        return _failed(job, exc, routing_key)
    log.info("event=done message_id=%s type=%s attempt=%s seconds=%.3f", message_id, event_type, attempt,
             time.monotonic() - started)
    return DONE


def _count_delivery(message_id: str) -> int:
    """Count this delivery in its own commit, before the handler runs; returns how many
    deliveries of the message have started without reaching an outcome, this one included."""
    row = db.session.get(MessageDelivery, message_id)
    if row is None:
        row = MessageDelivery(message_id=message_id, deliveries=0)
        db.session.add(row)
    row.deliveries += 1
    row.last_at = utcnow()
    try:
        db.session.commit()
    except IntegrityError:   # another worker counted the same message first (a redelivery race)
        db.session.rollback()
        return _count_delivery(message_id)
    return row.deliveries


def _delivered(message_id: str) -> None:
    """The delivery reached an outcome (in the caller's transaction): it was no crash."""
    db.session.execute(db.delete(MessageDelivery).where(MessageDelivery.message_id == message_id))


def _died_too_often(job: Job, routing_key: str, deaths: int) -> str:
    reason = (f"the worker stopped while handling this message {deaths} times in a row (killed, out of "
              "memory, or a crash in native code); it was not run again")
    log.error("event=dead_after_crashes message_id=%s type=%s deaths=%s", job.message_id, job.event_type, deaths)
    _delivered(job.message_id)
    return _dead(job, routing_key, reason, deaths)


def _dead(job: Job, routing_key: str, reason: str, attempts: int) -> str:
    # Without its run of LMS failures: a requeue gets the whole LMS budget again.
    message = {k: v for k, v in job.envelope.items() if k not in (LMS_SINCE, LMS_FAILURES)}
    dead_letter(message, message_id=job.message_id, queue=job.queue, routing_key=routing_key,
                reason=reason, attempts=attempts)
    hook = DEAD_HOOKS.get(job.event_type)
    if hook is not None:
        hook(job, reason)
    db.session.commit()
    return DEAD


def _poison(body, message_id, queue, routing_key, reason) -> str:
    dead_letter(body, message_id=message_id, queue=queue, routing_key=routing_key,
                reason=reason, attempts=1)
    db.session.commit()
    return DEAD


def _failed(job: Job, exc: Exception, routing_key: str) -> str:
    reason = _reason(exc)
    attempts = job.attempt + 1
    _delivered(job.message_id)
    if is_permanent(exc):
        return _dead(job, routing_key, reason, attempts)
    if is_lms_temporary(exc) and job.settings.lms_retry_hours > 0:
        return _lms_failed(job, exc, routing_key, reason)
    if attempts >= job.settings.max_attempts:
        return _dead(job, routing_key, reason, attempts)
    return _retry(job, exc, routing_key, reason, {"attempt": attempts}, job.attempt)


def _lms_failed(job: Job, exc: Exception, routing_key: str, reason: str) -> str:
    """The LMS failed for now: retried until `lms_retry_hours` after the first of this run of LMS
    failures, using no attempt. Five attempts last 15-30 s, and an LMS upgrade, an outage or
    a throttled bulk approval lasts longer: every grade and hand-in sent meanwhile became a
    dead letter."""
    now = time.time()
    since = job.envelope.get(LMS_SINCE, now)
    failures = job.envelope.get(LMS_FAILURES, 0) + 1
    tried = now - since
    if tried >= job.settings.lms_retry_hours * 3600:
        return _dead(job, routing_key, f"{LMS_GAVE_UP} {duration(tried)} of LMS failures "
                     f"({failures} tries). The last: {reason}", job.attempt + failures)
    return _retry(job, exc, routing_key, reason, {LMS_SINCE: since, LMS_FAILURES: failures}, failures - 1)


def _retry(job: Job, exc: Exception, routing_key: str, reason: str, changes: dict, step: int) -> str:
    """Queue a copy of the message with `changes`, due after backoff step `step` (and no sooner
    than the LMS asked)."""
    delay = max(backoff(step, job.settings.retry_base_seconds, job.settings.retry_max_seconds),
                asked_wait(exc) * random.uniform(1.0, 1.25))   # spread: not all back in the same second
    message = {**job.envelope, **changes}
    relay.enqueue(message, routing_key, delay=delay)
    db.session.commit()
    log.warning("event=retry_scheduled message_id=%s type=%s attempt=%s lms_failures=%s delay=%.2f error=%r",
                job.message_id, job.event_type, message["attempt"], message.get(LMS_FAILURES, 0), delay,
                reason[:300])
    return RETRY


def duration(seconds: float) -> str:
    """"40 s", "25 minutes", "24 hours": how long the LMS failed, for a dead letter's reason."""
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 2 * 3600:
        return f"{seconds / 60:.0f} minutes"
    return f"{seconds / 3600:.0f} hours"
