"""Database errors in the log without the values PostgreSQL quotes in its DETAIL line.

A constraint violation's message carries the row's values: `DETAIL:  Key (email)=(ada@school.org)
already exists.`, `Key (user_id)=(42) is not present in table "users"`, or a whole row
(`Failing row contains (...)`, an essay's text among them). psycopg puts that line in the
exception's text, SQLAlchemy repeats it, and `log.exception` (Flask's handler for a 500, the
worker's job failures) wrote it to the log, which holds no personal data (docs/privacy.md). Every
log record whose exception or message holds a database error gets its text with the DETAIL values
left out; the error class, the constraint, the table and the statement (whose parameters the
engine already hides) stay, which is what a bug report needs.

Installed as the process's log record factory (`install`, from `create_app`): the record is cleaned
where it is made, so every handler, formatter and log capture writes the same clean text.
"""
from __future__ import annotations

import logging
import re
import traceback

LEFT_OUT = "…"
_KEY = re.compile(r'^(?P<head>Key \(.*?\)=\().*(?P<tail>\) (?:already exists|is (?:not present in|still referenced '
                  r'from) table "[^"]*")\.?)$', re.DOTALL)
_DETAIL_LINE = re.compile(r"(DETAIL:\s+)(.*)")
_previous_factory = None


def redacted(detail: str) -> str:
    """`detail` with its values left out: `Key (email)=(…) already exists.`, else `…`."""
    match = _KEY.match(detail)
    return f"{match['head']}{LEFT_OUT}{match['tail']}" if match else LEFT_OUT


def _details(exc: BaseException | None) -> list[str]:
    """The DETAIL texts of the database errors in `exc`'s chain (SQLAlchemy's, the driver's)."""
    found, seen = [], set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        for error in (exc, getattr(exc, "orig", None)):
            detail = getattr(getattr(error, "diag", None), "message_detail", None)
            if isinstance(detail, str) and detail:
                found.append(detail)
        exc = exc.__cause__ or exc.__context__
    return found


def scrub(text: str, details: list[str]) -> str:
    """`text` without the values of `details` (exact, also when a value spans lines), nor those of any
    other one-line DETAIL (an error logged as text, without its exception)."""
    for detail in sorted(set(details), key=len, reverse=True):
        text = text.replace(detail, redacted(detail))
    return _DETAIL_LINE.sub(lambda m: m.group(1) + (m.group(2) if LEFT_OUT in m.group(2) else redacted(m.group(2))),
                            text)


def _clean(record: logging.LogRecord) -> logging.LogRecord:
    try:
        _scrub_record(record)
    except Exception:   # a log call with wrong arguments fails where logging reports it, not here
        pass
    return record


def _scrub_record(record: logging.LogRecord) -> None:
    exc = record.exc_info[1] if record.exc_info else None
    details = _details(exc)
    for arg in record.args if isinstance(record.args, tuple) else ():
        if isinstance(arg, BaseException):
            details += _details(arg)
    message = record.getMessage()
    if details or "DETAIL:" in message:
        record.msg, record.args = scrub(message, details), ()
    if details and record.exc_info:   # formatters use `exc_text` as it is, where it is set
        record.exc_text = scrub("".join(traceback.format_exception(*record.exc_info)).rstrip("\n"), details)


def install() -> None:
    """Make every log record of this process through `_clean` (once)."""
    global _previous_factory
    if _previous_factory is not None:
        return
    _previous_factory = logging.getLogRecordFactory()

    def factory(*args, **kwargs):
        return _clean(_previous_factory(*args, **kwargs))

    logging.setLogRecordFactory(factory)
