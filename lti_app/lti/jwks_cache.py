"""Platform public keys: the JWKS cached on the `Platform` row, refetched once on an unknown kid.

Platforms rotate keys by publishing a new kid; a launch naming a kid we do not know first
re-reads the row (another worker may have fetched the new set), then triggers one fetch (with a
timeout), never more per launch, and at most one per cooldown per platform so junk kids cannot
make us hammer the platform.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone

import requests
from flask import current_app
from jwt import PyJWK
from jwt.exceptions import PyJWKError

from lti_app.extensions import db
from lti_app.lti import registry
from lti_app.lti.errors import LaunchError
from lti_app.lti.registry import PlatformInfo
from lti_app.models import Platform

log = logging.getLogger(__name__)
_parsed: dict[tuple[int, str, str], PyJWK] = {}   # (platform id, fetched at, kid) -> key
MAX_JWKS_BYTES = 1_000_000


def fetch_key_set(url: str) -> dict:
    timeout = current_app.config.get("GRADELOOP_HTTP_TIMEOUT", 10.0)
    try:
        resp = requests.get(url, timeout=(min(timeout, 5.0), timeout), headers={"Accept": "application/json"})
        resp.raise_for_status()
        if len(resp.content) > MAX_JWKS_BYTES:
            raise ValueError("key set too large")
        data = resp.json()
    except (requests.RequestException, ValueError) as exc:
        raise LaunchError(f"Could not fetch the platform's public keys from {url}: {exc}",
                          code="jwks_unavailable") from exc
    if not isinstance(data, dict) or not isinstance(data.get("keys"), list):
        raise LaunchError(f"The platform's key set at {url} is not a JWKS document.",
                          code="jwks_invalid")
    return data


def refresh(platform: PlatformInfo) -> bool:
    """Fetch the JWKS into the platform row unless it was fetched within the cooldown."""
    cooldown = float(current_app.config.get("GRADELOOP_JWKS_REFETCH_COOLDOWN", 5.0))
    fetched = platform.key_set_fetched_at
    now = datetime.now(timezone.utc)
    if fetched is not None and fetched.tzinfo is None:
        fetched = fetched.replace(tzinfo=timezone.utc)   # SQLite drops the zone
    if platform.key_set is not None and fetched and now - fetched < timedelta(seconds=cooldown):
        return False
    key_set = fetch_key_set(platform.key_set_url)
    db.session.execute(db.update(Platform).where(Platform.id == platform.id)
                       .values(key_set=key_set, key_set_fetched_at=now))
    db.session.commit()
    registry.forget()
    log.info("fetched JWKS of platform %s (%s keys)", platform.id, len(key_set["keys"]))
    return True


def _find(platform: PlatformInfo | None, kid: str) -> PyJWK | None:
    if platform is None or not platform.key_set:
        return None
    stamp = str(platform.key_set_fetched_at)
    cached = _parsed.get((platform.id, stamp, kid))
    if cached is not None:
        return cached
    for jwk in platform.key_set.get("keys", []):
        if isinstance(jwk, dict) and jwk.get("kid") == kid:
            if jwk.get("kty") != "RSA" or jwk.get("alg", "RS256") != "RS256":
                raise LaunchError(f"The platform key {kid!r} is not an RS256 key.", code="bad_key")
            try:
                key = PyJWK(jwk, algorithm="RS256")
            except PyJWKError as exc:
                raise LaunchError(f"The platform key {kid!r} cannot be read: {exc}", code="bad_key") from exc
            if len(_parsed) > 1000:
                _parsed.clear()
            _parsed[(platform.id, stamp, kid)] = key
            return key
    return None


def platform_key(platform: PlatformInfo, kid: str) -> PyJWK:
    """The platform's public key named `kid`; one refetch if it is not in the cached set."""
    key = _find(platform, kid)
    if key is None:
        platform = registry.by_id(platform.id, fresh=True) or platform
        key = _find(platform, kid)
    if key is None and refresh(platform):
        key = _find(registry.by_id(platform.id, fresh=True), kid)
    if key is None:
        raise LaunchError(f"The id_token was signed with key {kid!r}, which the platform does not "
                          f"publish at {platform.key_set_url}.", code="unknown_kid")
    return key
