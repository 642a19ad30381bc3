"""Who may register an LMS through `/lti/register`, and which addresses Gradeloop contacts for it.

The page is unauthenticated, so it must not be a way to make this server fetch arbitrary URLs
(SSRF) and read the answers:

- **Who may register.** `GRADELOOP_REGISTRATION_ORIGINS` lists the LMS origins allowed (the
  configuration URL and the registration endpoint must both be on one of them); `*` allows any
  public origin. Unset: any public origin in development and test, and **nothing in production**
  (a stranger's registration adds a platform whose origin may frame Gradeloop, and whose
  launches create courses and training work). `lti.init_app` logs a warning at start then.
- **Where we connect.** Every URL the registration fetches, and the key set and token URLs we will
  use later, must resolve only to public addresses: loopback, private (RFC 1918, fc00::/7),
  link-local (169.254.0.0/16, where cloud metadata services answer), CGNAT, multicast and
  reserved addresses are refused, unless the URL's origin is listed in
  GRADELOOP_REGISTRATION_ORIGINS (schools host Moodle on private networks: listing it is how they
  allow it). Development also allows loopback, for the sandbox LMS of `gradeloop run`.

`vet` returns the address it checked; `registration_fetch` connects to that address only.
"""
from __future__ import annotations

import ipaddress
import logging
import socket
from urllib.parse import ParseResult, urlparse

from flask import current_app

from lti_app.lti.errors import LaunchError
from lti_app.lti.urls import origin

log = logging.getLogger(__name__)

ANY_ORIGIN = "*"


def allowed_origins() -> list[str]:
    return [o.rstrip("/") for o in current_app.config.get("GRADELOOP_REGISTRATION_ORIGINS") or []]


def startup_warning(config) -> str | None:
    """What `lti.init_app` logs at start about open registration (None: nothing to say)."""
    if config.get("GRADELOOP_ENV") != "production":
        return None
    origins = config.get("GRADELOOP_REGISTRATION_ORIGINS") or []
    if not origins:
        return ("GRADELOOP_REGISTRATION_ORIGINS is not set: LTI dynamic registration (/lti/register) is "
                "refused. Set it to your LMS origins (e.g. https://moodle.school.edu), or to * to let any "
                "public LMS register itself; `gradeloop platform add` works either way.")
    if ANY_ORIGIN in origins:
        return ("GRADELOOP_REGISTRATION_ORIGINS=*: anyone who can reach /lti/register can register an LMS "
                "(public addresses only). List your LMS origins instead to restrict it.")
    return None


def resolve(host: str, port: int) -> list[str]:
    """Every address `host` resolves to (a function of its own so tests can name hosts)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(info[4][0] for info in infos))


def address_problem(address: str, *, loopback_ok: bool = False) -> str | None:
    """Why we will not connect to `address` (None: a public address)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])   # drop an IPv6 zone id
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped                               # ::ffff:127.0.0.1 is 127.0.0.1
    if ip.is_loopback:
        return None if loopback_ok else "a loopback address"
    if ip.is_unspecified or ip.is_multicast:   # 0.0.0.0 reaches this machine on Linux
        return "a reserved address"
    if ip.is_link_local:
        return "a link-local address"
    if ip.is_private:
        return "a private-network address"
    if ip.is_reserved or not ip.is_global:
        return "a reserved address"
    return None


def vet(url: str, what: str, *, must_be_listed: bool = True, fetched: bool = False) -> str:
    """Check `url` against the registration policy; returns the resolved address to connect to.

    `what` names the URL in errors; `fetched` means the URL came from the platform's answer and
    is not repeated in the error (only logged). `must_be_listed`: with an allowlist the origin
    must be on it (configuration URL, registration endpoint); the key set and token URLs may be
    elsewhere (Canvas cloud serves them from sso.canvaslms.com) but must be public unless listed."""
    shown = what if fetched else f"{what} {url}"
    parsed = http_url(url or "", shown)
    allowed = allowed_origins()
    listed = origin(url) in allowed
    if must_be_listed and not listed:
        if allowed and ANY_ORIGIN not in allowed:
            log.warning("dynamic registration refused: %s %s is not in GRADELOOP_REGISTRATION_ORIGINS", what, url)
            # The origin, even of a URL from the platform's answer: it is what the administrator
            # must list (Canvas cloud answers with an endpoint on another host than its issuer).
            raise LaunchError(f"Registrations from this LMS are not allowed on this Gradeloop: the {what} is "
                              f"on {origin(url)}, which is not listed in GRADELOOP_REGISTRATION_ORIGINS.",
                              status=403, code="registration_forbidden")
        if not allowed and current_app.config.get("GRADELOOP_ENV") == "production":
            raise LaunchError("Dynamic registration is turned off on this Gradeloop until its administrator "
                              "lists the LMS origins allowed to register (GRADELOOP_REGISTRATION_ORIGINS). "
                              "The LMS can also be added by hand with `gradeloop platform add`.",
                              status=403, code="registration_closed")
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        addresses = resolve(parsed.hostname, port)
    except (OSError, UnicodeError) as exc:
        log.info("dynamic registration: cannot resolve %s: %s", parsed.hostname, exc)
        raise LaunchError(f"Could not reach the {shown}: its host name does not resolve.",
                          code="registration_unreachable") from exc
    if not addresses:
        raise LaunchError(f"Could not reach the {shown}: its host name does not resolve.",
                          code="registration_unreachable")
    if not listed:
        loopback_ok = current_app.config.get("GRADELOOP_ENV") == "development"
        for address in addresses:
            problem = address_problem(address, loopback_ok=loopback_ok)
            if problem:
                log.warning("dynamic registration refused: %s %s resolves to %s (%s)", what, url, address, problem)
                raise LaunchError(
                    f"The {shown} is on {problem}, which Gradeloop does not contact for a registration. "
                    f"An LMS on a private network is allowed by listing its origin in "
                    f"GRADELOOP_REGISTRATION_ORIGINS.", status=403, code="registration_forbidden_address")
    return addresses[0]


def http_url(url: str, shown: str) -> ParseResult:
    """`url` parsed, refused in words unless it is an http(s) URL with a host and a port we can
    read. `urlparse` and its `.port` raise ValueError for a port past 65535 or not a number and for
    an unclosed IPv6 bracket; everything after this (origins, resolving, pinning) reads them."""
    try:
        parsed = urlparse(url)
        parsed.port  # noqa: B018  (raises on a bad port)
    except ValueError as exc:
        raise LaunchError(f"The {shown} is not a valid URL: its host or port cannot be read.",
                          code="registration_bad_request") from exc
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise LaunchError(f"The {shown} must be an http(s) URL.", code="registration_bad_request")
    return parsed
