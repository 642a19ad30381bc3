"""The tool's public URLs (from GRADELOOP_PUBLIC_URL, or the request's host when unset)."""
from __future__ import annotations

from urllib.parse import urlparse

from flask import current_app, request, url_for


def public_base() -> str:
    """Scheme and host LMSs reach us at. A path in GRADELOOP_PUBLIC_URL is not part of it: it is
    the app's mount point (`lti_app.path_prefix`), which `url_for` already puts in every path."""
    return origin(current_app.config.get("GRADELOOP_PUBLIC_URL")) or request.host_url.rstrip("/")


def is_ours(origin_header: str) -> bool:
    """Whether a request's `Origin` is the tool's own: the public URL, or (behind a TLS proxy, in
    development) the host we are served at."""
    return origin_header.rstrip("/") in {request.host_url.rstrip("/"), public_base()}


def public_url(endpoint: str, **values) -> str:
    return public_base() + url_for(endpoint, **values)


def launch_url() -> str:
    return public_url("lti.launch")


def served_over_https() -> bool:
    """Whether browsers reach us over HTTPS (then cookies are SameSite=None; Secure; Partitioned)."""
    configured = current_app.config.get("GRADELOOP_PUBLIC_URL") or ""
    return (configured.startswith("https://") or current_app.config.get("GRADELOOP_ENV") == "production"
            or request.is_secure)


def origin(url: str | None) -> str | None:
    parsed = urlparse(url or "")
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        return None
    return f"{parsed.scheme}://{parsed.netloc}"
