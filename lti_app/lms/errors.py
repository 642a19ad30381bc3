"""Errors raised by the LMS services client, split by whether retrying can help.

`LmsTemporaryError` (5xx, 429, timeouts, connection errors): retry later, nothing is lost. It
carries the wait the LMS asked for (`Retry-After`), which the worker honours.
`LmsPermanentError` (other 4xx, and service URLs Gradeloop will not contact): the LMS refused the
request. The message says so in Gradeloop's words with the HTTP status; the LMS's own text (e.g.
Moodle's "user is not gradable") is logged, and quoted only when it came from a public address or
a listed origin (`client.raise_for_status`).
"""
from __future__ import annotations


class LmsError(Exception):
    """Any failure talking to the LMS. `str(exc)` is a sentence a teacher can read."""

    def __init__(self, message: str, *, status: int | None = None, url: str | None = None):
        super().__init__(message)
        self.message = message
        self.status = status
        self.url = url

    @property
    def temporary(self) -> bool:
        return False


class LmsTemporaryError(LmsError):
    """`retry_after`: seconds the LMS asked Gradeloop to wait before the next call, or None."""

    def __init__(self, message: str, *, status: int | None = None, url: str | None = None,
                 retry_after: float | None = None):
        super().__init__(message, status=status, url=url)
        self.retry_after = retry_after

    @property
    def temporary(self) -> bool:
        return True


class LmsPermanentError(LmsError):
    pass


class LmsNotConfigured(LmsPermanentError):
    """The launch did not give us the service endpoint (e.g. AGS disabled for this tool)."""
