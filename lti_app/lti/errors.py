"""`LaunchError`: a refused LTI request, with the HTTP status and words for the person who sees it."""
from __future__ import annotations


class LaunchError(Exception):
    def __init__(self, message: str, status: int = 400, code: str = "invalid_launch"):
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
