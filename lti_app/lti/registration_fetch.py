"""The HTTP requests of a dynamic registration: a JSON object fetched from (or POSTed to) a URL
that `registration_policy.vet` passed, over a connection to the very address it checked.

- **No DNS rebinding between check and fetch.** The host is resolved once; the request is sent
  to the address that was checked (Host header and TLS SNI/certificate still use the name), so
  a name that answers a public address to the check and 127.0.0.1 to the fetch gains nothing.
  Limits: when an HTTP(S) proxy is configured in the environment the proxy resolves the name
  again; and the key set / token URLs are checked at registration but resolved afresh whenever
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
import os
from urllib.parse import parse_qsl, urlencode, urlparse, urlsplit, urlunparse

import requests
from flask import current_app
from requests.adapters import HTTPAdapter

from lti_app.lti.errors import LaunchError
from lti_app.lti.registration_policy import vet

log = logging.getLogger(__name__)

MAX_BYTES = 1_000_000
# Certificate verification for the pinned HTTPS requests (requests' `verify`); tests point it at
# their own CA. Always on.
VERIFY: bool | str = True


def _verify() -> bool | str:
    """The pinned session ignores the environment (`trust_env = False`, so no proxy re-resolves
    the name), which also drops requests' REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE: read them here, or a
    Moodle on a private network with the school's own CA, the case the allowlist is for, would
    fail to register while its key set and LMS calls (which do honour the bundle) work."""
    if VERIFY is not True:
        return VERIFY
    return os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True


class _PinnedHTTPS(HTTPAdapter):
    """Connects to the checked address while TLS uses the URL's host name for SNI and for
    verifying the certificate (urllib3's `server_hostname` / `assert_hostname`)."""

    def __init__(self, hostname: str):
        self._hostname = hostname
        super().__init__(max_retries=0)

    def init_poolmanager(self, connections, maxsize, block=False, **pool_kwargs):
        pool_kwargs.update(server_hostname=self._hostname, assert_hostname=self._hostname)
        super().init_poolmanager(connections, maxsize, block=block, **pool_kwargs)


def _pinned(url: str, address: str) -> tuple[str, dict]:
    """`url` with its host replaced by `address`, and the Host header it must carry."""
    parsed = urlparse(url)
    literal = f"[{address}]" if ":" in address else address
    netloc = literal + (f":{parsed.port}" if parsed.port else "")
    host = parsed.hostname + (f":{parsed.port}" if parsed.port else "")
    if ":" in parsed.hostname:
        host = f"[{parsed.hostname}]" + (f":{parsed.port}" if parsed.port else "")
    return urlunparse(parsed._replace(netloc=netloc)), {"Host": host}


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
    target = url
    with requests.Session() as session:
        if not requests.utils.get_environ_proxies(url):   # through a proxy the proxy resolves (docstring)
            target, host = _pinned(url, address)
            headers.update(host)
            session.trust_env = False
            session.mount("https://", _PinnedHTTPS(urlparse(url).hostname))
        try:
            resp = session.request(method, target, headers=headers, timeout=(min(timeout, 5.0), timeout),
                                   allow_redirects=False, stream=True, verify=_verify(), **kwargs)
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
