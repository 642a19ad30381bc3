"""Platform public keys: the JWKS cached on the `Platform` row.

Refetched in three cases:

- **Unknown kid.** Platforms rotate keys by publishing a new kid; a launch naming a kid we do
  not know first re-reads the row (another worker may have fetched the new set), then triggers
  one fetch (with a timeout), never more per launch, and at most one per cooldown per platform
  so junk kids cannot make us hammer the platform; after a failed fetch, none for
  `RETRY_AFTER_FAILURE_S` per process (a failing endpoint must not hold a web worker per launch).
- **Max age.** A platform that withdraws a key (it leaked, or it was retired) only removes it
  from its JWKS; refetching on unknown kids alone would accept that key forever. So the cached
  set is fresh for the platform's `Cache-Control: max-age`, floored at `GRADELOOP_JWKS_MIN_AGE`
  (default 5 min: a platform answering `no-store` must not cost a fetch per launch) and capped at
  `GRADELOOP_JWKS_MAX_AGE` (default 24 h, also used when the platform says nothing); the first
  launch after that refetches. Fail soft: when that refetch fails (platform down, timeout), the
  cached keys stay in use for `GRADELOOP_JWKS_STALE_GRACE` (default 24 h) past their max age,
  with a warning in the log and at most one retry per `RETRY_AFTER_FAILURE_S` per process; after
  the grace period launches are refused (`jwks_stale`) rather than trusting keys of unknown age.
- **On demand**: `gradeloop platform refresh-keys`; and `upsert_platform` drops the cache when
  the platform's key set URL changes.
"""
from __future__ import annotations

import logging
import re
import threading
import time
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
DEFAULT_MAX_AGE_S = 24 * 3600
MIN_AGE_S = 300
STALE_GRACE_S = 24 * 3600
RETRY_AFTER_FAILURE_S = 60.0
_failures_lock = threading.Lock()
_failed_at: dict[tuple[str, int], float] = {}    # (database URL, platform id) -> monotonic time


def _setting(name: str, default: float) -> float:
    return float(current_app.config.get(name, default))


def cache_max_age(cache_control: str | None) -> int:
    """Seconds a fetched key set stays fresh: the header's max-age, floored and capped."""
    cap = _setting("GRADELOOP_JWKS_MAX_AGE", DEFAULT_MAX_AGE_S)
    floor = _setting("GRADELOOP_JWKS_MIN_AGE", MIN_AGE_S)
    seconds = cap
    directives = [d.strip().lower() for d in (cache_control or "").split(",")]
    if "no-store" in directives or "no-cache" in directives:
        seconds = 0
    else:
        for directive in directives:
            found = re.fullmatch(r'max-age\s*=\s*"?(\d+)"?', directive)
            if found:
                seconds = int(found.group(1))
    return int(min(cap, max(floor, seconds)))


def fetch_key_set(url: str) -> tuple[dict, int]:
    """The platform's JWKS and how many seconds it stays fresh (`cache_max_age`)."""
    timeout = current_app.config.get("GRADELOOP_HTTP_TIMEOUT", 10.0)
    try:
        # No redirects: registration checked that this URL is a public address (or an allowed
        # origin); a 302 from it could send every launch's key fetch to an internal address.
        resp = requests.get(url, timeout=(min(timeout, 5.0), timeout), headers={"Accept": "application/json"},
                            allow_redirects=False)
        if resp.is_redirect:
            raise ValueError(f"it answered a redirect ({resp.status_code}); give the key set's own URL")
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
    return data, cache_max_age(resp.headers.get("Cache-Control"))


def _aware(moment: datetime | None) -> datetime | None:
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)   # SQLite drops the zone
    return moment


def refresh(platform: PlatformInfo, *, force: bool = False) -> bool:
    """Fetch the JWKS into the platform row unless it was fetched within the cooldown (`force`:
    fetch anyway; the max-age refetch and `gradeloop platform refresh-keys`)."""
    cooldown = float(current_app.config.get("GRADELOOP_JWKS_REFETCH_COOLDOWN", 5.0))
    fetched = _aware(platform.key_set_fetched_at)
    now = datetime.now(timezone.utc)
    if (not force and platform.key_set is not None and fetched
            and now - fetched < timedelta(seconds=cooldown)):
        return False
    # End the caller's transaction before waiting on the platform: a launch has consumed its
    # login state by now (an UPDATE), and on SQLite that holds the database's one write lock, so
    # every other launch, hand-in and save waited behind this fetch (up to its HTTP timeout). The
    # state is spent either way: a refused launch burns it too.
    db.session.commit()
    key_set, max_age = fetch_key_set(platform.key_set_url)
    # Only if the URL is still the one fetched: an administrator may have just changed it.
    db.session.execute(db.update(Platform).where(Platform.id == platform.id,
                                                 Platform.key_set_url == platform.key_set_url)
                       .values(key_set=key_set, key_set_fetched_at=now, key_set_max_age=max_age))
    db.session.commit()
    registry.forget()
    with _failures_lock:
        _failed_at.pop(_slot(platform), None)
    log.info("fetched JWKS of platform %s (%s keys, fresh for %s s)", platform.id, len(key_set["keys"]), max_age)
    return True


def _slot(platform: PlatformInfo) -> tuple[str, int]:
    return current_app.config["SQLALCHEMY_DATABASE_URI"], platform.id


def max_age(platform: PlatformInfo) -> float:
    """The platform's stored max age, within today's floor and cap."""
    cap = _setting("GRADELOOP_JWKS_MAX_AGE", DEFAULT_MAX_AGE_S)
    floor = _setting("GRADELOOP_JWKS_MIN_AGE", MIN_AGE_S)
    stored = platform.key_set_max_age if platform.key_set_max_age is not None else cap
    return min(cap, max(floor, stored))


def key_set_age(platform: PlatformInfo) -> float | None:
    fetched = _aware(platform.key_set_fetched_at)
    if platform.key_set is None or fetched is None:
        return None
    return (datetime.now(timezone.utc) - fetched).total_seconds()


def _fresh_enough(platform: PlatformInfo) -> PlatformInfo:
    """The platform with a key set younger than its max age: refetched when older, or, when that
    fails, the old set during the grace period."""
    age = key_set_age(platform)
    if age is None or age < max_age(platform):
        return platform   # no set yet: the unknown-kid path fetches it
    platform = registry.by_id(platform.id, fresh=True) or platform   # another worker refetched?
    age = key_set_age(platform)
    if age is None or age < max_age(platform):
        return platform
    slot = _slot(platform)
    if not _failed_recently(platform):
        try:
            refresh(platform, force=True)
            return registry.by_id(platform.id, fresh=True) or platform
        except LaunchError as exc:
            with _failures_lock:
                _failed_at[slot] = time.monotonic()
            log.warning("platform %s: its key set is %d s old (max age %d s) and refetching it failed "
                        "(%s); the cached keys stay in use for at most %d s more", platform.id, age,
                        max_age(platform), exc.message, max_age(platform) + _grace() - age)
    if age < max_age(platform) + _grace():
        return platform
    log.error("platform %s: its key set is %d s old and cannot be refetched from %s; launches are refused",
              platform.id, age, platform.key_set_url)
    raise LaunchError(f"The platform's public keys could not be fetched again from {platform.key_set_url}, "
                      f"and the copy Gradeloop keeps is too old to trust. Try again later; if this "
                      f"persists, ask the Gradeloop administrator (gradeloop platform refresh-keys).",
                      code="jwks_stale")


def _retry_after_failure() -> float:
    return _setting("GRADELOOP_JWKS_RETRY_AFTER_FAILURE", RETRY_AFTER_FAILURE_S)


def _failed_recently(platform: PlatformInfo) -> bool:
    with _failures_lock:
        last_failure = _failed_at.get(_slot(platform))
    return last_failure is not None and time.monotonic() - last_failure < _retry_after_failure()


def _grace() -> float:
    return _setting("GRADELOOP_JWKS_STALE_GRACE", STALE_GRACE_S)


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
    """The platform's public key named `kid`: from a key set within its max age, with one
    refetch if the kid is not in it."""
    platform = _fresh_enough(platform)
    key = _find(platform, kid)
    if key is None:
        platform = registry.by_id(platform.id, fresh=True) or platform
        key = _find(platform, kid)
    if key is None:
        # The cooldown in `refresh` counts from the last *successful* fetch. While the platform's
        # key endpoint fails, each launch with a junk kid would otherwise hold a web worker for a
        # whole fetch timeout: failures hold off fetching for the same time as on the max-age path.
        if _failed_recently(platform):
            raise LaunchError(f"The platform's public keys could not be fetched from {platform.key_set_url} "
                              "a moment ago. Try again in a minute.", code="jwks_unavailable")
        try:
            fetched = refresh(platform)
        except LaunchError:
            with _failures_lock:
                _failed_at[_slot(platform)] = time.monotonic()
            raise
        if fetched:
            key = _find(registry.by_id(platform.id, fresh=True), kid)
    if key is None:
        raise LaunchError(f"The id_token was signed with key {kid!r}, which the platform does not "
                          f"publish at {platform.key_set_url}.", code="unknown_kid")
    return key


def refresh_now(platform_id: int) -> dict:
    """`gradeloop platform refresh-keys`: fetch the platform's key set now; returns it."""
    platform = registry.by_id(platform_id, fresh=True)
    if platform is None:
        raise LaunchError(f"There is no platform {platform_id}.", code="unknown_platform")
    refresh(platform, force=True)
    return (registry.by_id(platform_id, fresh=True) or platform).key_set or {}
