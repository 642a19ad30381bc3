"""How a handler failure is treated: retried with backoff, dead-lettered at once, or deferred.

Handlers raise these (or any exception, which counts as temporary). The LMS client's own
`LmsPermanentError`/`LmsTemporaryError` are recognised without importing it, by their
`temporary` property, so the worker does not depend on the LMS package being importable. An
`LmsTemporaryError` (the LMS down, throttling or timing out) is retried for hours rather than
attempts (`jobs`), no sooner than its `retry_after`.
"""
from __future__ import annotations


class PermanentError(Exception):
    """Retrying cannot help (bad payload, 4xx from the LMS): dead-letter now with this message."""


class RetryableError(Exception):
    """A temporary failure (5xx, timeout, broker hiccup): retry later with backoff."""


class Deferred(Exception):
    """Not now, but not a failure: run again after `delay` seconds without using an attempt
    (e.g. another worker holds the training lease for this assignment)."""

    def __init__(self, reason: str, delay: float):
        super().__init__(reason)
        self.delay = delay


def is_permanent(exc: BaseException) -> bool:
    if isinstance(exc, PermanentError):
        return True
    temporary = getattr(exc, "temporary", None)
    # LmsError subclasses expose `temporary`; only an explicit False means "the LMS said no".
    return temporary is False and _from_lms(exc)


def _from_lms(exc: BaseException) -> bool:
    return type(exc).__name__.startswith("Lms")


def is_lms_temporary(exc: BaseException) -> bool:
    """The LMS failed for now (5xx, 429, throttling, a timeout, no connection)."""
    return getattr(exc, "temporary", None) is True and _from_lms(exc)


def asked_wait(exc: BaseException) -> float:
    """Seconds the LMS asked to wait before the next call (its `Retry-After`), else 0."""
    after = getattr(exc, "retry_after", None) if _from_lms(exc) else None
    return float(after) if isinstance(after, (int, float)) and 0 < after < float("inf") else 0.0
