"""Platform registration (CLI, dynamic registration and the sandbox all go through here), and the
administrator's changes to a platform: deployments, disable/enable, removal.

A platform is found by issuer + client id, both compared exactly (LTI 1.3 / OpenID Connect
compare `iss` as a case-sensitive string), so the checks here refuse what would otherwise
become a registration that no launch ever matches: a plain-http issuer, one that differs from a
registered issuer only by a trailing slash or the case of its host, an empty deployment id.
"""
from __future__ import annotations

import ipaddress
import logging
from datetime import datetime, timezone
from urllib.parse import urlparse

from lti_app.extensions import db
from lti_app.models import Course, DeepLinkingRequest, Deployment, LoginState, Platform, UsedNonce, User

log = logging.getLogger(__name__)


def _check_url(name: str, value: str) -> None:
    try:
        parsed = urlparse(value)
        parsed.port   # raises for a port out of range or not a number
    except ValueError:
        raise ValueError(f"{name} must be an http(s) URL with a valid host and port, got {value!r}") from None
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise ValueError(f"{name} must be an http(s) URL, got {value!r}")


def is_local_host(host: str | None) -> bool:
    """localhost, *.localhost or a loopback address: a platform on this machine (development, tests)."""
    host = (host or "").lower().strip("[]")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_issuer(issuer: str) -> None:
    """An issuer is an https URL without query or fragment (OpenID Connect Core 2, LTI 1.3 5.1.2).
    Plain http is accepted only for a platform on this machine (the sandbox LMS, a local Moodle):
    on any other host it is nearly always a typo for https, and no real platform signs it."""
    parsed = urlparse(issuer or "")
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise ValueError(f"the issuer must be an https URL (the 'iss' of the platform's id_tokens), "
                         f"got {issuer!r}")
    if parsed.scheme == "http" and not is_local_host(parsed.hostname):
        raise ValueError(f"the issuer must be an https URL, got {issuer!r} (plain http is accepted only "
                         f"for localhost)")
    if parsed.query or parsed.fragment:
        raise ValueError(f"the issuer must not have a query or fragment, got {issuer!r}")


def _issuer_key(issuer: str) -> tuple[str, str, str]:
    parsed = urlparse(issuer)
    return parsed.scheme.lower(), parsed.netloc.lower(), parsed.path.rstrip("/")


def similar_issuer(issuer: str) -> Platform | None:
    """A registered platform whose issuer differs from `issuer` only by a trailing slash or the
    case of scheme/host. Launches match `iss` exactly, so registering the variant would give a
    second platform that the LMS never launches (or a stranger's copy of a real one)."""
    key = _issuer_key(issuer)
    for platform in db.session.scalars(db.select(Platform).where(Platform.issuer != issuer)):
        if _issuer_key(platform.issuer) == key:
            return platform
    return None


def _check_deployment_id(dep) -> str:
    if not isinstance(dep, str) or not dep.strip():
        raise ValueError("a deployment id must not be empty")
    if dep != dep.strip():
        # Launches compare deployment_id exactly: a pasted space would never match.
        raise ValueError(f"the deployment id {dep!r} starts or ends with white space")
    if len(dep) > 255:
        raise ValueError("a deployment id is at most 255 characters")
    return dep


def find_platform(issuer: str, client_id: str) -> Platform | None:
    return db.session.scalar(db.select(Platform).filter_by(issuer=issuer, client_id=client_id))


def upsert_platform(*, issuer: str, client_id: str, deployment_ids=(), auth_login_url: str | None = None,
                    auth_token_url: str | None = None, key_set_url: str | None = None, name: str = "",
                    auth_audience: str | None = None, product_family: str | None = None) -> Platform:
    """Create or update the platform (issuer, client_id) and add any new deployment ids.

    Only the fields given (not None / not empty) change an existing platform: re-running
    `gradeloop platform add` to add a deployment must not erase what dynamic registration stored
    (the token audience, the product family). A new platform needs the three endpoint URLs.
    Deployment ids are only ever added here (`remove_deployment` removes one)."""
    if not issuer or not client_id:
        raise ValueError("issuer and client id are required")
    deployment_ids = [_check_deployment_id(dep) for dep in deployment_ids]
    urls = {"auth_login_url": ("auth login URL", auth_login_url),
            "auth_token_url": ("auth token URL", auth_token_url),
            "key_set_url": ("key set URL", key_set_url)}
    for label, url in urls.values():
        if url is not None:
            _check_url(label, url)
    if auth_audience is not None and not auth_audience.strip():
        auth_audience = None
    platform = find_platform(issuer, client_id)
    if platform is None:
        check_issuer(issuer)
        other = similar_issuer(issuer)
        if other is not None:
            raise ValueError(
                f"the issuer {issuer!r} differs from the registered issuer {other.issuer!r} (platform "
                f"{other.id}) only by a trailing slash or letter case. Issuers are compared exactly: use "
                f"the 'iss' the platform puts in its id_tokens. If the registered one is wrong, remove it "
                f"first (gradeloop platform remove {other.id}).")
        missing = [label for label, url in urls.values() if not url]
        if missing:
            raise ValueError(f"a new platform needs its {', '.join(missing)}")
        platform = Platform(issuer=issuer, client_id=client_id)
        db.session.add(platform)
    if key_set_url and platform.key_set_url and key_set_url != platform.key_set_url:
        # Keys cached from the old URL are not this URL's keys: the next launch fetches afresh.
        platform.key_set = None
        platform.key_set_fetched_at = None
        platform.key_set_max_age = None
        log.info("key set URL of platform %s changed; its cached keys were dropped", platform.id)
    for field, (_label, url) in urls.items():
        if url:
            setattr(platform, field, url)
    platform.name = name or platform.name or urlparse(issuer).netloc
    if auth_audience:
        platform.auth_audience = auth_audience
    platform.product_family = product_family or platform.product_family
    known = {d.deployment_id for d in platform.deployments}
    for dep in deployment_ids:
        if dep not in known:
            platform.deployments.append(Deployment(deployment_id=dep))
            known.add(dep)
    db.session.commit()
    _forget_caches()
    return platform


def _forget_caches() -> None:
    from lti_app.lti import framing, registry

    registry.forget()  # this process's platform snapshot must see the change at once
    framing.forget()   # and so must frame-ancestors (a disabled or removed platform frames no more)


def get_platform(platform_id: int) -> Platform:
    platform = db.session.get(Platform, platform_id)
    if platform is None:
        raise ValueError(f"there is no platform {platform_id} (gradeloop platform list shows them)")
    return platform


def remove_deployment(platform_id: int, deployment_id: str) -> Platform:
    """Launches from that deployment are refused from now on; courses launched from it are kept.

    The last deployment cannot be removed: a platform without deployments accepts the deployment
    of its next validly signed launch (that is how a dynamically registered Canvas learns its
    deployment id), so removing the last one would re-open the platform to any of its
    deployments instead of closing it. `disable` is the way to stop a platform."""
    platform = get_platform(platform_id)
    row = next((d for d in platform.deployments if d.deployment_id == deployment_id), None)
    if row is None:
        known = ", ".join(d.deployment_id for d in platform.deployments) or "none"
        raise ValueError(f"platform {platform_id} has no deployment {deployment_id!r} (it has: {known})")
    if len(platform.deployments) == 1:
        raise ValueError(f"{deployment_id!r} is the last deployment of platform {platform_id}; a platform "
                         f"without deployments accepts the next deployment that launches. To stop its "
                         f"launches use: gradeloop platform disable {platform_id}")
    platform.deployments.remove(row)
    db.session.commit()
    _forget_caches()
    return platform


def set_disabled(platform_id: int, disabled: bool) -> Platform:
    platform = get_platform(platform_id)
    if disabled and platform.disabled_at is None:
        platform.disabled_at = datetime.now(timezone.utc)
    elif not disabled:
        platform.disabled_at = None
    db.session.commit()
    _forget_caches()
    return platform


def platform_holdings(platform_id: int) -> tuple[int, int]:
    """(courses, people) stored for the platform."""
    courses = db.session.scalar(db.select(db.func.count()).select_from(Course)
                                .where(Course.platform_id == platform_id))
    people = db.session.scalar(db.select(db.func.count()).select_from(User).where(User.platform_id == platform_id))
    return courses, people


def remove_platform(platform_id: int) -> None:
    """Delete a platform that holds no courses and no people (a mistaken or unwanted registration,
    or an LMS the school no longer uses, once its courses and people are deleted).

    A platform with courses is refused: its essays, grades and course models belong to its
    teachers and students. `disable` stops its launches and keeps them; the refusal names the
    commands that delete them first (`_holdings_refusal`).
    Explicit deletes, children first: SQLite may run without foreign-key enforcement."""
    platform = get_platform(platform_id)
    courses, people = platform_holdings(platform_id)
    if courses or people:
        raise ValueError(_holdings_refusal(platform, courses, people))
    for model in (LoginState, UsedNonce, DeepLinkingRequest, Deployment):
        db.session.execute(db.delete(model).where(model.platform_id == platform_id))
    db.session.execute(db.delete(Platform).where(Platform.id == platform_id))
    db.session.commit()
    _forget_caches()


def _holdings_refusal(platform: Platform, courses: int, people: int) -> str:
    """Why `remove` refuses, and what to run first. Copies that `platform move-courses` retired
    are not to be deleted (a tool session names them by id): such a registration stays, disabled."""
    from lti_app.reregistration import live_holdings   # it imports this module

    pid = platform.id
    said = (f"platform {pid} ({platform.issuer}) holds {courses} course(s) and {people} person(s); it is not "
            f"removed. `gradeloop platform disable {pid}` stops its launches and keeps the data.")
    if live_holdings(pid) == (0, 0):
        return (f"{said} They are copies that `gradeloop platform move-courses` retired (no name, no LMS id); "
                f"leave the platform disabled.")
    return (f"{said} To remove it, delete its courses first: `gradeloop course list --platform {pid}`, then "
            f"`gradeloop course delete --course ID --forget` for each (or `gradeloop course purge --platform {pid} "
            f"--inactive-days N --forget`); then its people, who are then in no course: `gradeloop privacy "
            f"erase-people --without-data --platform {pid}`.")
