"""Serving Gradeloop under a path of a shared host (`GRADELOOP_PUBLIC_URL=https://tools.school.edu/gradeloop`).

The public URL's path is the app's mount point: every URL the app builds (launch and JWKS URLs
given to LMSs, links, redirects) starts with it, and requests are matched without it. A reverse
proxy may pass the path on as is (`/gradeloop/lti/launch`) or strip it (`/lti/launch`); both
work. Before this, the prefix was written twice into the URLs given to LMSs when the proxy set
SCRIPT_NAME, and dropped from in-page links when it did not.
"""
from __future__ import annotations

from urllib.parse import urlparse


def mount_path(public_url: str | None) -> str:
    """'/gradeloop' for 'https://tools.school.edu/gradeloop/', '' for a URL without a path."""
    return urlparse(public_url or "").path.rstrip("/")


class PathPrefix:
    """WSGI middleware: SCRIPT_NAME = the mount path, PATH_INFO = the rest."""

    def __init__(self, app, prefix: str):
        self.app, self.prefix = app, prefix

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path == self.prefix or path.startswith(self.prefix + "/"):
            environ["PATH_INFO"] = path[len(self.prefix):] or "/"
        environ["SCRIPT_NAME"] = self.prefix   # whatever the proxy set: one prefix, never two
        return self.app(environ, start_response)


def init_app(app) -> None:
    prefix = mount_path(app.config.get("GRADELOOP_PUBLIC_URL"))
    if prefix:
        app.wsgi_app = PathPrefix(app.wsgi_app, prefix)
