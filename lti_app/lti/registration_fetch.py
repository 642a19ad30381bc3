"""The HTTP requests of a dynamic registration: a JSON object fetched from (or POSTed to) a URL
that `registration_policy.vet` passed, over a connection to the very address it checked.

- **No DNS rebinding between check and fetch** (`pinned_http`). Limits: when an HTTP(S) proxy is
  configured in the environment the proxy resolves the name again; and the key set / token URLs are checked at registration but resolved afresh whenever
  they are used later (a platform's DNS may change after registration).
- **Nothing fetched is echoed.** Errors say what was wrong in our words (the HTTP status, "not a
  JSON object"...), never the body or values of the answer; details go to the log. No redirects
  are followed and answers are read up to `MAX_BYTES`.
- **No token in the log.** Canvas puts the registration token, a bearer credential, in the query
  of the configuration URL; URLs are logged and shown with their query values redacted.
"""
from __future__ import annotations

import json
import logging
from urllib.parse import parse_qsl, urlencode, urlsplit

import requests
from flask import current_app

from lti_app import pinned_http
from lti_app.lti.errors import LaunchError
from lti_app.lti.registration_policy import vet

log = logging.getLogger(__name__)

MAX_BYTES = 1_000_000


def loggable_url(url: str) -> str:
    """`url` with every query value replaced by `redacted` (the names stay: they tell what the LMS
    sent). A URL `urlsplit` cannot read loses its whole query instead."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url.split("?", 1)[0]
    if not parts.query:
        return url
    query = urlencode([(name, "redacted") for name, _ in parse_qsl(parts.query, keep_blank_values=True)])
    return parts._replace(query=query).geturl()


def _failure(exc: Exception) -> str:
    """Why a request failed, without requests' own message: that names the URL with its query."""
    reason = getattr(exc.args[0] if exc.args else None, "reason", None)   # urllib3's MaxRetryError
    if isinstance(exc, requests.RequestException):
        return f"{type(exc).__name__}: {reason}" if reason is not None else type(exc).__name__
    return f"{type(exc).__name__}: {exc}"   # OSError: the socket's words, no URL


def fetch_json(method: str, url: str, token: str | None, what: str, *, fetched: bool = False, **kwargs) -> dict:
    """The JSON object `url` answers to `method` (with `token` as the bearer); `what` and
    `fetched` name the URL in refusals as `vet` does."""
    logged = loggable_url(url)
    address = vet(logged, what, fetched=fetched)   # the query plays no part in the checks, only in vet's log
    shown = what if fetched else f"{what} {logged}"
    timeout = current_app.config.get("GRADELOOP_HTTP_TIMEOUT", 10.0)
    headers = {"Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    with requests.Session() as session:
        target = pinned_http.pin(session, url, address, headers)
        try:
            resp = session.request(method, target, headers=headers, timeout=(min(timeout, 5.0), timeout),
                                   allow_redirects=False, stream=True, verify=pinned_http.verify(), **kwargs)
            body = resp.raw.read(MAX_BYTES + 1, decode_content=True)
            resp.close()
        except (requests.RequestException, OSError) as exc:
            log.info("dynamic registration: %s %s failed: %s", method, logged, _failure(exc))
            raise LaunchError(f"Could not reach the {shown} (the connection failed or timed out).",
                              code="registration_unreachable") from exc
    if resp.status_code >= 300:
        # The status only: the body (or a redirect's Location) of whatever answered stays here.
        log.info("dynamic registration: %s %s answered %s: %r", method, logged, resp.status_code, body[:300])
        raise LaunchError(f"The platform answered {resp.status_code} to Gradeloop's request to the {shown}.",
                          code="registration_refused")
    try:
        data = json.loads(body) if len(body) <= MAX_BYTES else None
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise LaunchError(f"The platform's answer from the {shown} is not a JSON object.",
                          code="registration_bad_json")
    return data
