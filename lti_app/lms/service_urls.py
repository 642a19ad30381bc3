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

`checked_address` returns the address it checked, and `send` connects to that address only, as the
registration's fetches do (`registration_fetch`), so a name that resolves to a public address for
the check and to 127.0.0.1 for the call gains nothing. Limits: through an HTTP(S) proxy set in the
environment the proxy resolves the name again; and the hosts of a platform's registered URLs are
trusted wherever they resolve now, so a platform that controls its own DNS can point them inside
the network after registering (as with its token endpoint and key set, resolved when used).
"""
from __future__ import annotations

import logging
from urllib.parse import urlparse

import requests
from flask import current_app, has_app_context

from lti_app import pinned_http
from lti_app.lms.errors import LmsPermanentError, LmsTemporaryError

log = logging.getLogger(__name__)


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


def checked_address(url: str, hosts: frozenset[str], what: str) -> str:
    """The address to connect to for `url`, a service URL of the platform whose registered hosts
    are `hosts`; raises `LmsPermanentError` for a URL the rule refuses."""
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
    return addresses[0]


def send(method: str, url: str, address: str, **kwargs) -> requests.Response:
    """`requests`' call to `url`, connected to `address` (the one `checked_address` passed), over a
    pinned connection (`pinned_http`)."""
    headers = dict(kwargs.pop("headers", None) or {})
    with requests.Session() as session:
        target = pinned_http.pin(session, url, address, headers)
        kwargs.setdefault("verify", pinned_http.verify())
        response = session.request(method, target, headers=headers, **kwargs)
    response.url = url   # errors and logs name the URL the LMS gave, not the address
    return response
