"""Which addresses Gradeloop calls for a platform's services, checked before every call.

The AGS line item, score and result URLs and the NRPS roster URL come from launch claims, and the
`Link: rel="next"` pages from the LMS's answers: the platform names them, not the administrator.
A platform that registered itself (GRADELOOP_REGISTRATION_ORIGINS=*, "public addresses only")
could otherwise make Gradeloop call this server's own network: loopback, a private service, the
cloud metadata service at 169.254.169.254.

The rule is the registration policy's (`registration_policy.address_problem`): a service URL must
be http(s) and resolve only to public addresses, unless

- its origin is listed in GRADELOOP_REGISTRATION_ORIGINS, or
- its host is the host of the platform's issuer, token endpoint or key set URL. A school's Moodle
  on its own network, added by its administrator, serves its services from the host it was
  registered with (so does the sandbox LMS on 127.0.0.1). A self-registered platform's issuer,
  token endpoint and key set were checked to be public when it registered. Its login URL was not
  (the browser visits it, Gradeloop does not), so that host does not count.

Nothing stricter, such as the issuer's origin only: Canvas cloud serves its services from the
school's host and its tokens and keys from sso.canvaslms.com, all public.

`checked_addresses` returns the addresses it checked (all of them pass), and `send` connects to
those only, as the registration's fetches do (`pinned_http`), so a name that resolves to a public
address for the check and to 127.0.0.1 for the call gains nothing. Like a plain connection, it
tries the next address when one cannot be connected to (a broken IPv6 route, a dead node behind
the LMS's name); a request that reached the LMS is never sent twice. Limits: through an HTTP(S) proxy set in the
environment the proxy resolves the name again; and the hosts of a platform's registered URLs are
trusted wherever they resolve now, so a platform that controls its own DNS can point them inside
the network after registering (as with its token endpoint and key set, resolved when used).
"""
from __future__ import annotations

import logging
from urllib.parse import urlparse

import requests
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError
from flask import current_app, has_app_context

from lti_app import pinned_http
from lti_app.lms.errors import LmsPermanentError, LmsTemporaryError

log = logging.getLogger(__name__)
# An LMS name with more addresses than this is tried on its first few (each try may take the
# connect timeout).
MAX_ADDRESSES = 3


def registered_hosts(*urls: str | None) -> frozenset[str]:
    """The host names of a platform's issuer, token endpoint and key set URL."""
    hosts = set()
    for url in urls:
        try:
            host = urlparse(url or "").hostname
        except ValueError:
            host = None
        if host:
            hosts.add(host)
    return frozenset(hosts)


# The `lti_app.lti` imports are made where they are used: that package imports this one's client
# (launches provision courses, which reach the gradebook).


def _listed(url: str) -> bool:
    from lti_app.lti import registration_policy
    from lti_app.lti.urls import origin

    return has_app_context() and origin(url) in registration_policy.allowed_origins()


def _loopback_ok() -> bool:
    """Development allows loopback, as the registration policy does (`gradeloop run`'s sandbox)."""
    return has_app_context() and current_app.config.get("GRADELOOP_ENV") == "development"


def _refuse(url: str, what: str, why: str, address: str = "") -> LmsPermanentError:
    """The refusal in words; the address a name resolved to goes to the log only (shown, it would
    tell whoever launched what this server's DNS says about internal names)."""
    log.warning("LMS service URL refused: %s %r %s: %s", what, url, address, why)
    return LmsPermanentError(f"The LMS gave an address for {what} that Gradeloop will not contact: {why}. "
                             "Gradeloop's administrator can allow an LMS on a private network by listing "
                             "its origin in GRADELOOP_REGISTRATION_ORIGINS.", url=url)


def checked_addresses(url: str, hosts: frozenset[str], what: str) -> list[str]:
    """The addresses to connect to for `url`, in the resolver's order, for a service URL of the
    platform whose registered hosts are `hosts`; raises `LmsPermanentError` for a URL the rule
    refuses (any of its addresses failing the rule refuses it)."""
    from lti_app.lti import registration_policy

    try:
        parsed = urlparse(url or "")
        port = parsed.port
    except ValueError:
        raise _refuse(url, what, "it is not a valid address") from None
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise _refuse(url, what, "it is not an http(s) address")
    try:
        addresses = registration_policy.resolve(parsed.hostname, port or (443 if parsed.scheme == "https" else 80))
    except (OSError, UnicodeError) as exc:
        log.info("LMS service URL %s does not resolve: %s", url, exc)
        addresses = []
    if not addresses:
        raise LmsTemporaryError(f"Could not reach the LMS ({what}): its host name does not resolve. "
                                "Gradeloop will try again.", url=url)
    if parsed.hostname not in hosts and not _listed(url):
        for address in addresses:
            problem = registration_policy.address_problem(address, loopback_ok=_loopback_ok())
            if problem:
                raise _refuse(url, what, f"it is on {problem}", address)
    return list(dict.fromkeys(addresses))[:MAX_ADDRESSES]


def answer_may_be_shown(url: str, addresses: list[str]) -> bool:
    """Whether an answer to `url`, called at `addresses`, may be quoted to the teacher: it came from
    a public address (development: loopback too), or from an origin the administrator listed in
    GRADELOOP_REGISTRATION_ORIGINS (a school's Moodle on its own network), so it cannot be a
    service inside this server's network that a platform pointed Gradeloop at. Not through an
    environment proxy: the proxy resolves the name again, so what answered is not known."""
    from lti_app.lti import registration_policy

    if not addresses or requests.utils.get_environ_proxies(url):
        return False
    return _listed(url) or all(
        registration_policy.address_problem(address, loopback_ok=_loopback_ok()) is None for address in addresses)


def send(method: str, url: str, addresses: list[str], **kwargs) -> requests.Response:
    """`requests`' call to `url` over a pinned connection (`pinned_http`) to the first of
    `addresses` (those `checked_addresses` passed) that can be connected to."""
    for n, address in enumerate(addresses):
        try:
            return _send_to(method, url, address, **kwargs)
        except requests.ConnectionError as exc:
            if n == len(addresses) - 1 or not _never_connected(exc):
                raise
            log.info("LMS service %s: no connection to %s (%s); trying its next address", url, address,
                     type(exc).__name__)
    raise ValueError("no address to send to")


def _send_to(method: str, url: str, address: str, **kwargs) -> requests.Response:
    headers = dict(kwargs.pop("headers", None) or {})
    with requests.Session() as session:
        target = pinned_http.pin(session, url, address, headers)
        kwargs.setdefault("verify", pinned_http.verify())
        response = session.request(method, target, headers=headers, **kwargs)
    response.url = url   # errors and logs name the URL the LMS gave, not the address
    return response


def _never_connected(exc: requests.ConnectionError) -> bool:
    """The connection itself failed (refused, unreachable, timed out while connecting), so nothing
    of the request reached the LMS and another address may be tried. A connection that broke
    after the request was sent is not: the LMS may have taken it."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    reason = getattr(exc.args[0] if exc.args else None, "reason", None)   # urllib3's MaxRetryError
    return isinstance(reason, (NewConnectionError, ConnectTimeoutError))
