"""Registered platforms as plain, immutable snapshots, cached per process for a few seconds.

Every login and launch needs its platform and deployments; reading them from the database each
time was a third of the launch's cost. The snapshot is reloaded after `CACHE_S`, at once after a
registration or a JWKS refresh in this process (`forget()`), and when a launch names a kid the
snapshot does not know (another worker may have fetched the new key set already).
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import datetime

from flask import current_app

from lti_app.extensions import db
from lti_app.models import Deployment, Platform

CACHE_S = 10.0
_lock = threading.Lock()
_snapshots: dict[str, tuple[float, dict[int, "PlatformInfo"]]] = {}


@dataclass(frozen=True)
class PlatformInfo:
    id: int
    issuer: str
    client_id: str
    auth_login_url: str
    key_set_url: str
    key_set: dict | None
    key_set_fetched_at: datetime | None
    deployments: frozenset[str] = field(default_factory=frozenset)
    product_family: str = ""   # lower case: "canvas", "moodle"... ("" when no launch or registration said)
    key_set_max_age: int | None = None   # seconds; None: jwks_cache's default
    disabled: bool = False     # `gradeloop platform disable`: logins and launches are refused

    def has_deployment(self, deployment_id: str) -> bool:
        return deployment_id in self.deployments


def _load() -> dict[int, PlatformInfo]:
    deployments: dict[int, set[str]] = {}
    for platform_id, deployment_id in db.session.execute(
            db.select(Deployment.platform_id, Deployment.deployment_id)):
        deployments.setdefault(platform_id, set()).add(deployment_id)
    rows = db.session.execute(db.select(
        Platform.id, Platform.issuer, Platform.client_id, Platform.auth_login_url, Platform.key_set_url,
        Platform.key_set, Platform.key_set_fetched_at, Platform.product_family, Platform.key_set_max_age,
        Platform.disabled_at))
    return {r.id: PlatformInfo(r.id, r.issuer, r.client_id, r.auth_login_url, r.key_set_url, r.key_set,
                               r.key_set_fetched_at, frozenset(deployments.get(r.id, ())),
                               (r.product_family or "").lower(), r.key_set_max_age, r.disabled_at is not None)
            for r in rows}


def _all(fresh: bool = False) -> dict[int, PlatformInfo]:
    key = current_app.config["SQLALCHEMY_DATABASE_URI"]
    hit = _snapshots.get(key)
    if not fresh and hit and time.monotonic() - hit[0] < CACHE_S:
        return hit[1]
    snapshot = _load()
    with _lock:
        _snapshots[key] = (time.monotonic(), snapshot)
    return snapshot


def by_issuer(issuer: str) -> list[PlatformInfo]:
    found = [p for p in _all().values() if p.issuer == issuer]
    return found or [p for p in _all(fresh=True).values() if p.issuer == issuer]


def by_id(platform_id: int, *, fresh: bool = False) -> PlatformInfo | None:
    found = _all(fresh).get(platform_id)
    return found if found is not None or fresh else _all(fresh=True).get(platform_id)


def forget() -> None:
    with _lock:
        _snapshots.clear()
