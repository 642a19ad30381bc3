"""Access tokens and HTTP for LTI Advantage services: one place for timeouts, paging and errors.

Tokens come from the platform's token endpoint (OAuth2 client_credentials with a JWT client
assertion signed by the tool key, RFC 7523) and are cached per (token URL, client id, scopes)
until shortly before they expire, so many score posts share one token. A 401 on a service call
drops the cached token and retries once with a fresh one (the platform may have revoked it).

Every service URL (from launch claims, or a `next` page an answer names) passes
`service_urls.checked_addresses` first, and the call connects to an address it checked. Errors
say what happened in Gradeloop's words with the HTTP status; the LMS's own text goes to the log,
and a refusal quotes it for the teacher only when it came from a public address (a service inside
this server's network that a platform named must not be read back through a teacher's page).
"""
from __future__ import annotations

import email.utils
import json
import logging
import os
import re
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone

import jwt
import requests
from flask import current_app, has_app_context

from lti_app.lms import service_urls
from lti_app.lms.errors import LmsError, LmsPermanentError, LmsTemporaryError

log = logging.getLogger(__name__)

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
DEFAULT_TIMEOUT = 10.0
MAX_PAGES = 1000
# Renew this long before the platform's expiry so a token never dies mid-request.
EXPIRY_MARGIN_S = 60.0
# A longer `Retry-After` counts as this long: one header (from the LMS, or whatever answers for
# it) must not hold a grade back for days.
RETRY_AFTER_MAX_S = 3600.0


@dataclass(frozen=True)
class PlatformAuth:
    """What the client needs from a `Platform` row (plain values, safe across sessions/threads)."""

    issuer: str
    client_id: str
    token_url: str
    audience: str | None = None
    product_family: str | None = None
    # Hosts whose non-public addresses the platform's service URLs may use (service_urls).
    registered_hosts: frozenset[str] = frozenset()

    @classmethod
    def of(cls, platform) -> "PlatformAuth":
        return cls(issuer=platform.issuer, client_id=platform.client_id,
                   token_url=platform.auth_token_url, audience=platform.auth_audience,
                   product_family=(platform.product_family or "").lower() or None,
                   registered_hosts=service_urls.registered_hosts(
                       platform.issuer, platform.auth_token_url, platform.key_set_url))


_TOKENS: dict[tuple, tuple[str, float]] = {}
_TOKENS_LOCK = threading.Lock()


def clear_token_cache() -> None:
    with _TOKENS_LOCK:
        _TOKENS.clear()


def http_timeout() -> float:
    """Seconds for every LMS call: the environment's GRADELOOP_HTTP_TIMEOUT (read here as well as
    in config/settings.py, so that code outside an app context gets it), else the app's."""
    raw = os.environ.get("GRADELOOP_HTTP_TIMEOUT")
    if raw:
        try:
            return max(float(raw), 0.1)
        except ValueError:
            log.warning("GRADELOOP_HTTP_TIMEOUT=%r is not a number; using the configured timeout", raw)
    if has_app_context():
        return float(current_app.config.get("GRADELOOP_HTTP_TIMEOUT") or DEFAULT_TIMEOUT)
    return DEFAULT_TIMEOUT


def tool_signing_key():
    """(private key, kid) of the tool; the LTI launch package owns the key ring."""
    from lti_app.lti import keys

    return keys.tool_private_key(), keys.current_kid()


def _lms_message(response: requests.Response) -> str:
    """The LMS's own explanation, from whichever field it uses (OAuth, Moodle, Canvas)."""
    text = (response.text or "").strip()
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        for key in ("error_description", "message", "reason", "error"):
            value = body.get(key)
            if isinstance(value, str) and value.strip():
                return value.strip()
        errors = body.get("errors")
        if isinstance(errors, list) and errors:
            first = errors[0]
            return first.get("message", str(first)) if isinstance(first, dict) else str(first)
        if isinstance(errors, dict) and errors:
            return json.dumps(errors)[:300]
    return text[:300] or response.reason or "no explanation given"


def _one_line(text: str) -> str:
    """`text` fit for one log line: no control characters, at most 300 characters."""
    return " ".join("".join(c if c.isprintable() else " " for c in text).split())[:300]


# What a refusal most likely means, for the teacher who reads it.
_NOT_ALLOWED = " Check that Gradeloop may use the LMS's grade and roster services (the tool's settings in the LMS)."
_HINTS = {
    401: _NOT_ALLOWED,
    403: _NOT_ALLOWED,
    404: " The LMS does not know this address: the course or the gradebook column may have been deleted there.",
}
_LOGGED = " Gradeloop's administrator finds the LMS's own explanation in Gradeloop's log."


def _throttled(response: requests.Response, message: str) -> bool:
    """Canvas answers its request throttling with "403 Forbidden (Rate Limit Exceeded)" rather than
    429. Read as a refusal, a busy afternoon of grading would turn into permanent failures."""
    return response.status_code == 403 and (
        "rate limit exceeded" in message.lower() or "rate limit exceeded" in (response.reason or "").lower())


def retry_after(response: requests.Response) -> float | None:
    """Seconds the answer's `Retry-After` asks to wait (RFC 9110: a number of seconds or an HTTP
    date), at most RETRY_AFTER_MAX_S; None when it has none Gradeloop can read."""
    raw = (response.headers.get("Retry-After") or "").strip()
    if re.fullmatch(r"[0-9]{1,10}", raw):
        seconds = float(raw)
    else:
        try:
            when = email.utils.parsedate_to_datetime(raw)
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
        if when.tzinfo is None:   # "-0000": UTC, which HTTP dates always are
            when = when.replace(tzinfo=timezone.utc)
        seconds = (when - datetime.now(timezone.utc)).total_seconds()
    return min(max(seconds, 0.0), RETRY_AFTER_MAX_S)


def raise_for_status(response: requests.Response, what: str, *, shown: bool = False) -> None:
    """`LmsError` for an answer that is not a success. `shown`: the answer came from a public
    address or a listed origin (`service_urls.answer_may_be_shown`), so a refusal may quote the LMS's own short explanation
    ("user is not gradable", "no longer active in this course"), which tells the teacher what to
    do; else it is in the log only."""
    status = response.status_code
    if status < 300:
        return
    if status < 400:   # not followed: a bearer token must not travel to wherever it points
        log.warning("LMS redirected %s (%s, HTTP %s) to %s", what, response.url, status,
                    _one_line(response.headers.get("Location", "")))
        raise LmsPermanentError(f"The LMS redirected {what} elsewhere (HTTP {status}); check the service "
                                "URLs the LMS gives Gradeloop.", status=status, url=response.url)
    message = _lms_message(response)
    # Unless `shown`, the answer's words stay in the log: shown, they would let a platform read
    # back what a service inside this network that it names Gradeloop to call answers.
    log.warning("LMS answered %s (%s) with HTTP %s: %s", what, response.url, status, _one_line(message))
    if status == 429 or _throttled(response, message):
        raise LmsTemporaryError(f"The LMS asked Gradeloop to slow down ({what}: HTTP {status}, rate limit "
                                "exceeded). Gradeloop will try again.", status=status, url=response.url,
                                retry_after=retry_after(response))
    if status >= 500:
        raise LmsTemporaryError(f"The LMS is not available right now ({what}: HTTP {status}). "
                                "Gradeloop will try again.", status=status, url=response.url,
                                retry_after=retry_after(response))
    said = f": \"{_one_line(message)[:200]}\"" if shown and message else ""
    raise LmsPermanentError(f"The LMS refused {what} (HTTP {status}){said}.{_HINTS.get(status, '')}"
                            f"{'' if said else _LOGGED}", status=status, url=response.url)


def http(method: str, url: str, what: str, *, addresses: list[str] | None = None, **kwargs) -> requests.Response:
    """One HTTP call with the configured timeout; network trouble becomes `LmsTemporaryError`.
    `addresses`: those `service_urls.checked_addresses` passed for `url`, the only ones connected to."""
    timeout = kwargs.pop("timeout", None) or http_timeout()
    try:
        if addresses is not None:
            return service_urls.send(method, url, addresses, timeout=timeout, allow_redirects=False, **kwargs)
        return requests.request(method, url, timeout=timeout, allow_redirects=False, **kwargs)
    except requests.Timeout as exc:
        raise LmsTemporaryError(f"The LMS did not answer within {timeout:g} s ({what}). "
                                "Gradeloop will try again.", url=url) from exc
    except requests.RequestException as exc:
        raise LmsTemporaryError(f"Could not reach the LMS ({what}): {exc.__class__.__name__}. "
                                "Gradeloop will try again.", url=url) from exc


class LmsClient:
    """Authenticated calls to one platform's services."""

    def __init__(self, auth: PlatformAuth):
        self.auth = auth

    @classmethod
    def for_platform(cls, platform) -> "LmsClient":
        return cls(PlatformAuth.of(platform))

    # -- tokens ---------------------------------------------------------------------------
    def _cache_key(self, scopes: frozenset[str]) -> tuple:
        return (self.auth.token_url, self.auth.client_id, scopes)

    def client_assertion(self) -> str:
        key, kid = tool_signing_key()
        now = int(time.time())
        claims = {"iss": self.auth.client_id, "sub": self.auth.client_id,
                  "aud": self.auth.audience or self.auth.token_url,
                  "iat": now, "exp": now + 300, "jti": uuid.uuid4().hex}
        return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid})

    def access_token(self, scopes, *, fresh: bool = False) -> str:
        scopes = frozenset(scopes)
        key = self._cache_key(scopes)
        now = time.time()
        with _TOKENS_LOCK:
            cached = _TOKENS.get(key)
            if cached and not fresh and cached[1] > now:
                return cached[0]
        response = http("POST", self.auth.token_url, "the access token request", data={
            "grant_type": "client_credentials", "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": self.client_assertion(), "scope": " ".join(sorted(scopes))},
            headers={"Accept": "application/json"})
        raise_for_status(response, "the access token request")
        try:
            body = response.json()
            token = body["access_token"]
            lifetime = float(body.get("expires_in") or 3600)
        except (ValueError, KeyError, TypeError) as exc:
            raise LmsPermanentError("The LMS answered the access token request without a token.",
                                    status=response.status_code, url=response.url) from exc
        granted = set(str(body.get("scope") or "").split())
        if granted and not scopes <= granted:
            # Not fatal here: the service call will say precisely what it refuses.
            log.warning("LMS %s granted %s of requested %s", self.auth.issuer, granted, set(scopes))
        expires = now + max(lifetime - min(EXPIRY_MARGIN_S, lifetime / 10), 1.0)
        with _TOKENS_LOCK:
            _TOKENS[key] = (token, expires)
        return token

    # -- service calls --------------------------------------------------------------------
    def request(self, method: str, url: str, scopes, what: str, *, accept: str | None = None,
                content_type: str | None = None, body=None, params=None) -> requests.Response:
        """Authenticated call; refreshes the token once on 401; raises `LmsError` on failure."""
        addresses = service_urls.checked_addresses(url, self.auth.registered_hosts, what)   # before any token
        data = json.dumps(body) if body is not None else None
        response = None
        for attempt in range(2):
            headers = {"Authorization": f"Bearer {self.access_token(scopes, fresh=attempt > 0)}"}
            if accept:
                headers["Accept"] = accept
            if content_type:
                headers["Content-Type"] = content_type
            response = http(method, url, what, addresses=addresses, headers=headers, data=data, params=params)
            if response.status_code != 401:
                break
        raise_for_status(response, what, shown=service_urls.answer_may_be_shown(url, addresses))
        return response

    def get_json(self, url: str, scopes, what: str, *, accept: str, params=None):
        response = self.request("GET", url, scopes, what, accept=accept, params=params)
        return parse_json(response, what)

    def get_paged(self, url: str, scopes, what: str, *, accept: str, params=None):
        """Yield each page's JSON, following `Link: <...>; rel="next"` until the last page."""
        seen: set[str] = set()
        next_url: str | None = url
        pages = 0
        while next_url and next_url not in seen and pages < MAX_PAGES:
            seen.add(next_url)
            response = self.request("GET", next_url, scopes, what, accept=accept,
                                    params=params if pages == 0 else None)
            yield parse_json(response, what)
            pages += 1
            next_url = response.links.get("next", {}).get("url")


def parse_json(response: requests.Response, what: str):
    try:
        return response.json()
    except ValueError as exc:
        raise LmsPermanentError(f"The LMS answered {what} with something that is not JSON.",
                                status=response.status_code, url=response.url) from exc


__all__ = ["LmsClient", "PlatformAuth", "LmsError", "clear_token_cache", "http_timeout"]
