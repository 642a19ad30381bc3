"""Event messages shared by web and worker: versioned marshmallow schemas + the outbox writer.

The web app never talks to the broker inside a request. `record_event` adds an `OutboxEvent`
row to the caller's database transaction, so the event exists if and only if the change it
describes was committed; the relay (worker side) publishes unpublished rows and marks them.
Message id = `event_id`, which consumers use for idempotency.
"""
from __future__ import annotations

import uuid

from marshmallow import Schema, ValidationError, fields, validate

from lti_app.extensions import db
from lti_app.lms.ags import ACTIVITY_PROGRESS, GRADING_PROGRESS
from lti_app.models import OutboxEvent
from lti_app.routing import MAX_ID

SCHEMA_VERSION = 1
MESSAGE_ID_MAX = 64   # the width of every message id column


def row_id(**kwargs) -> fields.Integer:
    """A row id in a payload. Bounded by the id columns (INTEGER, `routing.MAX_ID` on PostgreSQL):
    a bigger number passed validation and then failed every query, on every delivery, the one
    that records its dead letter included, so the message came back for ever."""
    return fields.Integer(validate=validate.Range(min=1, max=MAX_ID), **kwargs)


# What we send is `uuid4().hex`: printable ASCII. A lone surrogate (valid JSON: "\ud800") or a NUL
# cannot be stored in the id columns.
MESSAGE_ID = validate.Regexp(r"[\x20-\x7e]*\Z", error="must be printable ASCII (letters, digits, punctuation)")


class EventSchema(Schema):
    """Envelope common to every message."""

    # The message id columns (processed_messages, message_deliveries, dead_letters) hold 64
    # characters: a longer id would fail the bookkeeping insert on PostgreSQL and requeue for ever.
    event_id = fields.String(required=True, validate=[validate.Length(min=1, max=MESSAGE_ID_MAX), MESSAGE_ID])
    type = fields.String(required=True)
    version = fields.Integer(required=True, validate=validate.Range(min=1, max=SCHEMA_VERSION))
    payload = fields.Dict(required=True)
    # Delivery attempt, set by the worker when it schedules a retry (0 = first delivery).
    # Bounded like ids: a dead letter stores attempt + LMS failures in an INTEGER column.
    attempt = fields.Integer(load_default=0, validate=validate.Range(min=0, max=MAX_ID // 2))
    # Set by the worker while the LMS fails the message for now (`worker.jobs`): when the first such
    # failure was (UNIX time) and how many there were. Absent otherwise.
    lms_failing_since = fields.Float(validate=validate.Range(min=0))
    lms_failures = fields.Integer(validate=validate.Range(min=1, max=MAX_ID // 2))


class SubmissionCreated(Schema):
    submission_id = row_id(required=True)
    assignment_id = row_id(required=True)
    course_id = row_id(required=True)


class GradeCreated(Schema):
    grade_id = row_id(required=True)
    submission_id = row_id(required=True)
    assignment_id = row_id(required=True)
    course_id = row_id(required=True)


class TrainingDue(Schema):
    assignment_id = row_id(required=True)
    reason = fields.String(load_default="manual")


class GradebookSync(Schema):
    """Push one grade (teacher or released AI grade), one submission status, (`revision`) the
    note beside a grade that its essay was returned, the return taken back, or a new version handed
    in, or (`line_item`) the assignment's title and maximum to its LMS column."""

    assignment_id = row_id(required=True)
    grade_id = row_id(load_default=None, allow_none=True)
    submission_id = row_id(load_default=None, allow_none=True)
    # AGS's own words only: a typo here would otherwise surface as a dead letter at the LMS call.
    activity_progress = fields.String(load_default=None, allow_none=True,
                                      validate=validate.OneOf(ACTIVITY_PROGRESS))
    grading_progress = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(GRADING_PROGRESS))
    revision = fields.Boolean()   # absent unless given, so other payloads read as before
    line_item = fields.Boolean()  # the column's title and maximum (`gradebook.sync_line_item`); likewise


# type -> (payload schema, routing key). Routing keys map to queues in the worker topology.
EVENT_TYPES: dict[str, tuple[type[Schema], str]] = {
    "submission.created": (SubmissionCreated, "scoring"),
    "grade.created": (GradeCreated, "training"),
    "training.due": (TrainingDue, "training"),
    "gradebook.sync": (GradebookSync, "gradebook"),
}


class UnknownEvent(ValueError):
    pass


def register_event_type(event_type: str, schema: type[Schema], routing_key: str) -> None:
    """Add an event type (worker plugins, e.g. the test suite's probe events)."""
    from worker.topology import WORK_QUEUES

    if routing_key not in WORK_QUEUES:
        raise ValueError(f"routing key {routing_key!r} is not one of {WORK_QUEUES}")
    EVENT_TYPES[event_type] = (schema, routing_key)


def parse_message(body) -> tuple[dict, str, dict]:
    """Validate a received message: returns (envelope, type, payload). Raises `UnknownEvent` or
    `ValidationError` with a readable message for anything else (a poison message)."""
    if not isinstance(body, dict):
        raise ValidationError(f"message body must be a JSON object, got {type(body).__name__}")
    message = EventSchema().load(body)
    payload = validate_payload(message["type"], message["payload"])
    return message, message["type"], payload


def validate_payload(event_type: str, payload: dict) -> dict:
    """Validate and normalise a payload; raises `UnknownEvent` or marshmallow `ValidationError`."""
    if event_type not in EVENT_TYPES:
        raise UnknownEvent(f"unknown event type {event_type!r}")
    schema, _ = EVENT_TYPES[event_type]
    return schema().load(payload)


def envelope(event_type: str, payload: dict, event_id: str | None = None) -> dict:
    return EventSchema().load({"event_id": event_id or uuid.uuid4().hex, "type": event_type,
                               "version": SCHEMA_VERSION, "payload": validate_payload(event_type, payload)})


def record_event(event_type: str, payload: dict) -> OutboxEvent:
    """Add the event to the current transaction (the caller commits)."""
    message = envelope(event_type, payload)
    row = OutboxEvent(event_id=message["event_id"], type=event_type,
                      routing_key=EVENT_TYPES[event_type][1], payload=message)
    db.session.add(row)
    return row


__all__ = ["record_event", "envelope", "validate_payload", "parse_message", "register_event_type", "EVENT_TYPES", "SCHEMA_VERSION",
           "MESSAGE_ID_MAX", "UnknownEvent", "ValidationError"]
