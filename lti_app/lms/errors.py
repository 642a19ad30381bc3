"""Errors raised by the LMS services client, split by whether retrying can help.

`LmsTemporaryError` (5xx, 429, timeouts, connection errors): retry later, nothing is lost.
`LmsPermanentError` (other 4xx, and service URLs Gradeloop will not contact): the LMS refused the
request. The message says so in Gradeloop's words with the HTTP status; the LMS's own text (e.g.
Moodle's "user is not gradable") is logged, not shown (`client.raise_for_status`).
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
    @property
    def temporary(self) -> bool:
        return True


class LmsPermanentError(LmsError):
    pass


class LmsNotConfigured(LmsPermanentError):
    """The launch did not give us the service endpoint (e.g. AGS disabled for this tool)."""
