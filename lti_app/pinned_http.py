"""HTTP calls connected to an address that was checked, not to whatever the name resolves to when
the call is made: the host is resolved once, the check passes or refuses that address, and the
request goes to it (the Host header and TLS SNI/certificate still use the name), so a name that
answers a public address to the check and 127.0.0.1 to the call gains nothing. Used by dynamic
registration (`lti.registration_fetch`) and the LMS services (`lms.service_urls`). Through an
HTTP(S) proxy set in the environment the proxy resolves the name again (not pinned)."""
from __future__ import annotations

import os
from urllib.parse import urlparse, urlunparse

import requests
from requests.adapters import HTTPAdapter

# Certificate verification for pinned HTTPS requests (requests' `verify`); tests point it at
# their own CA. Always on.
VERIFY: bool | str = True


def verify() -> bool | str:
    """The pinned session ignores the environment (`trust_env = False`, so no proxy re-resolves
    the name), which also drops requests' REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE: read them here, or a
    Moodle on a private network with the school's own CA, the case the allowlist is for, would
    fail while the calls that do honour the bundle work."""
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


def pin(session: requests.Session, url: str, address: str, headers: dict) -> str:
    """Set `session` up to reach `url` at `address` (adding the Host header to `headers`); returns
    the URL to request. Behind an environment proxy, `url` unchanged."""
    if requests.utils.get_environ_proxies(url):
        return url
    target, host = _pinned(url, address)
    headers.update(host)
    session.trust_env = False
    session.mount("https://", _PinnedHTTPS(urlparse(url).hostname))
    return target
