"""How a handler failure is treated: retried with backoff, dead-lettered at once, or deferred.

Handlers raise these (or any exception, which counts as temporary). The LMS client's own
`LmsPermanentError`/`LmsTemporaryError` are recognised without importing it, by their
`temporary` property, so the worker does not depend on the LMS package being importable.
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
    return temporary is False and type(exc).__name__.startswith("Lms")
