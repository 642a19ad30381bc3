"""Launch security: the OIDC state bound to this browser, and every check on the id_token.

pylti1p3 2.0 is lax exactly where it matters (no aud/azp check, replayable state and token,
no fetch timeout), so the checks are ours, each with its own message; see docs/lti.md.
Order: state (single use, this browser, fresh) -> JWT shape -> RS256 + kid -> platform key
(cached JWKS, one refetch) -> signature -> iss, aud/azp, exp/iat/nbf -> nonce (LoginState, never
seen before) -> deployment -> message claims. Nothing is created before all pass.
"""
from __future__ import annotations

import hashlib
import hmac
import logging
import math
import re
import shlex
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

import jwt
from sqlalchemy import Row, insert, select, update
from sqlalchemy.exc import IntegrityError

from lti_app.extensions import db
from lti_app.lti import claims as C
from lti_app.lti import registry
from lti_app.lti.errors import LaunchError
from lti_app.lti.jwks_cache import platform_key
from lti_app.lti.registry import PlatformInfo
from lti_app.models import Deployment, LoginState, Platform, UsedNonce
from lti_app.locking import for_update

log = logging.getLogger(__name__)
STATE_MAX_AGE = timedelta(minutes=10)
LEEWAY_S = 60
NONCE_KEEP_MAX_S = 24 * 3600   # longer than a login state lives (housekeeping.LOGIN_STATE_KEEP)
# Half of a character: a lone UTF-16 surrogate is valid JSON ("\ud83e" is what JavaScript's
# JSON.stringify writes for an emoji cut in two by substring), but no database can store it.
LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def storable(text: str) -> bool:
    """Text a column can hold: no NUL (PostgreSQL refuses it) and no half of a character."""
    return "\x00" not in text and not LONE_SURROGATE.search(text)


def binding_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass
class VerifiedLaunch:
    platform: PlatformInfo
    claims: dict
    login_state: Row

    @property
    def message_type(self) -> str:
        return self.claims[C.MESSAGE_TYPE]

    @property
    def deployment_id(self) -> str:
        return self.claims[C.DEPLOYMENT_ID]


STATE_COLUMNS = (LoginState.state, LoginState.nonce, LoginState.browser_binding, LoginState.platform_id,
                 LoginState.login_params, LoginState.created_at, LoginState.used_at)


def find_state(state: str | None) -> Row:
    if not state:
        raise LaunchError("The launch has no state parameter, so it cannot be matched to a login "
                          "started by this browser.", code="missing_state")
    row = db.session.execute(select(*STATE_COLUMNS).where(LoginState.state == state[:128])).first()
    if row is None or row.state != state:
        raise LaunchError("The launch's state is unknown: it was not issued by this tool's login.",
                          code="unknown_state")
    return row


def _check_fresh(created: datetime, now: datetime) -> None:
    created = created if created.tzinfo else created.replace(tzinfo=timezone.utc)   # SQLite drops the zone
    if now - created > STATE_MAX_AGE:
        raise LaunchError("The login for this launch is more than 10 minutes old. Open the "
                          "activity again from the course.", code="state_expired")


def consume_own_state(state: str | None, secrets: list[str | None]) -> Row | None:
    """The everyday launch in one statement: mark the state used if it is unused and bound to one
    of this browser's secrets (cookie, platform storage). None: not so, and `find_state` +
    `consume_state` then say exactly why (or recover)."""
    hashes = [binding_hash(secret) for secret in secrets if secret]
    if not state or len(state) > 128 or not hashes:
        return None
    now = datetime.now(timezone.utc)
    row = db.session.execute(
        update(LoginState).where(LoginState.state == state, LoginState.used_at.is_(None),
                                 LoginState.browser_binding.in_(hashes))
        .values(used_at=now).returning(*STATE_COLUMNS)
        .execution_options(synchronize_session=False)).first()
    if row is not None:
        _check_fresh(row.created_at, now)
    return row


def consume_state(row: Row, binding_secret: str | None) -> Row:
    """Check the state belongs to this browser and is fresh, then mark it used (atomically: the
    conditional UPDATE holds the row until the launch's single commit, so a concurrent replay
    finds it used; a refused launch burns it in `burn_state`)."""
    if not binding_secret or not hmac.compare_digest(binding_hash(binding_secret), row.browser_binding):
        raise LaunchError("This launch's state was issued to a different browser (the login cookie "
                          "or platform-storage value does not match).", code="state_other_browser")
    if row.used_at is not None:
        raise LaunchError("This launch's state was already used: a launch can be sent only once.",
                          code="state_used")
    now = datetime.now(timezone.utc)
    _check_fresh(row.created_at, now)
    done = db.session.execute(update(LoginState).where(LoginState.state == row.state,
                                                       LoginState.used_at.is_(None))
                              .values(used_at=now).execution_options(synchronize_session=False))
    if done.rowcount != 1:
        raise LaunchError("This launch's state was already used: a launch can be sent only once.",
                          code="state_used")
    return row


def _header(id_token: str | None) -> dict:
    if not id_token:
        raise LaunchError("The launch has no id_token.", code="missing_id_token")
    if id_token.count(".") != 2:
        raise LaunchError("The id_token is not a JWT (it must have three dot-separated parts).",
                          code="not_jwt")
    try:
        header = jwt.get_unverified_header(id_token)
    except (jwt.InvalidTokenError, ValueError, TypeError) as exc:
        raise LaunchError(f"The id_token is not a JWT: {exc}", code="not_jwt") from exc
    if header.get("alg") != "RS256":
        raise LaunchError(f"The id_token is signed with alg {header.get('alg')!r}; only RS256 is "
                          f"accepted.", code="bad_alg")
    if not header.get("kid"):
        raise LaunchError("The id_token header has no kid, so the platform key cannot be chosen.",
                          code="missing_kid")
    if not isinstance(header["kid"], str) or len(header["kid"]) > 255:
        raise LaunchError("The id_token header kid is not a key id (a short string).", code="bad_kid")
    return header


def _check_audience(body: dict, client_id: str) -> None:
    aud = body.get("aud")
    audiences = [aud] if isinstance(aud, str) else aud if isinstance(aud, list) else []
    if client_id not in audiences:
        raise LaunchError(f"The id_token audience (aud) {aud!r} does not contain this tool's client "
                          f"id {client_id!r}.", code="bad_aud")
    azp = body.get("azp")
    if len(audiences) > 1 and not azp:
        raise LaunchError("The id_token has several audiences but no azp (authorized party) claim.",
                          code="missing_azp")
    if azp is not None and azp != client_id:
        raise LaunchError(f"The id_token azp {azp!r} is not this tool's client id {client_id!r}.",
                          code="bad_azp")


def _timestamp(value) -> bool:
    """A JSON number of seconds we can compare and turn into a date: NaN compares false with
    everything (an `iat` of NaN passed as "not in the future"), infinities and NaN break
    `datetime.fromtimestamp`, and true/false are JSON booleans, not times."""
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, float) and math.isfinite(value))


def _check_times(body: dict) -> None:
    now = time.time()
    exp, iat, nbf = body.get("exp"), body.get("iat"), body.get("nbf")
    if not _timestamp(exp) or not _timestamp(iat) or (nbf is not None and not _timestamp(nbf)):
        raise LaunchError("The id_token must carry exp and iat (and nbf, when present) as finite numbers "
                          "of seconds.", code="bad_times")
    if exp + LEEWAY_S < now:
        raise LaunchError("The id_token has expired (exp is in the past).", code="expired")
    if iat - LEEWAY_S > now:
        raise LaunchError("The id_token was issued in the future (iat is ahead of our clock).",
                          code="future_iat")
    if nbf is not None and nbf - LEEWAY_S > now:
        raise LaunchError("The id_token is not valid yet (nbf is ahead of our clock).", code="future_nbf")


def _check_nonce(body: dict, row: Row, platform: PlatformInfo) -> None:
    nonce = body.get("nonce")
    if not nonce or not isinstance(nonce, str):
        raise LaunchError("The id_token has no nonce.", code="missing_nonce")
    # Bytes: a str must be ASCII. Ours is; half of a character in theirs is a mismatch, not a 500.
    if not hmac.compare_digest(nonce.encode("utf-8", "surrogatepass"), row.nonce.encode()):
        raise LaunchError("The id_token nonce does not match the one this tool sent at login.",
                          code="bad_nonce")
    # Kept while the token could be replayed, but no longer than a day: the state it must come
    # with is single-use and purged long before, and an `exp` past the year 9999 would not fit.
    expires = datetime.fromtimestamp(min(body["exp"] + LEEWAY_S, time.time() + NONCE_KEEP_MAX_S), timezone.utc)
    try:   # no savepoint needed: a duplicate refuses the whole launch anyway
        db.session.execute(insert(UsedNonce).values(nonce=nonce[:255], platform_id=platform.id,
                                                    expires_at=expires))
    except IntegrityError as exc:
        db.session.rollback()
        raise LaunchError("The id_token nonce was already used: this launch is a replay.",
                          code="nonce_replayed") from exc


def _adopt_first_deployment(platform: PlatformInfo, deployment_id: str) -> bool:
    """A platform with no deployment recorded takes the deployment of its first launch.

    Canvas's dynamic registration answers no deployment_id (the deployment is made when the
    admin installs the developer key, after registration), so such a platform would refuse every
    launch. Accepting the first one is safe because we only get here after the id_token's
    signature verified with this platform's own key (from its key set URL), its iss is this
    platform's issuer, its aud/azp our client id, and its nonce is the one our login issued: only
    the platform itself can have made it. Only the first deployment is adopted (under a row lock
    on PostgreSQL; SQLite serialises the launch's writes already); later deployments are added by
    the administrator, and the row is committed with the launch, so a launch refused by a later
    check records nothing."""
    if platform.deployments:
        return False
    locked = db.session.execute(for_update(select(Platform.id).where(Platform.id == platform.id))).first()
    if locked is None:
        return False
    existing = db.session.scalars(select(Deployment.deployment_id)
                                  .where(Deployment.platform_id == platform.id)).all()
    if existing:
        return deployment_id in existing   # a concurrent first launch recorded its own
    db.session.execute(insert(Deployment).values(platform_id=platform.id, deployment_id=deployment_id))
    log.warning("platform %s (%s) had no deployment; recorded %r from its first signed launch",
                platform.id, platform.issuer, deployment_id)
    return True


def _check_message(body: dict, platform: PlatformInfo) -> None:
    deployment_id = body.get(C.DEPLOYMENT_ID)
    if not deployment_id:
        raise LaunchError("The id_token has no deployment_id claim.", code="missing_deployment")
    if not isinstance(deployment_id, str) or len(deployment_id) > 255 or not storable(deployment_id):
        # A platform's first deployment is stored from its launch (`_adopt_first_deployment`).
        raise LaunchError("The id_token deployment_id is not a deployment id (a string of at most 255 "
                          "characters, without NUL or half of a character).", code="unknown_deployment")
    if not platform.has_deployment(deployment_id):
        platform = registry.by_id(platform.id, fresh=True) or platform   # just registered?
    if not platform.has_deployment(deployment_id) and not _adopt_first_deployment(platform, deployment_id):
        raise LaunchError(
            f"The deployment {deployment_id!r} is not registered with this tool for {platform.issuer}. "
            f"The Gradeloop administrator can add it with: gradeloop platform add --issuer "
            f"{shlex.quote(platform.issuer)} --client-id {shlex.quote(platform.client_id)} "
            f"--deployment-id {shlex.quote(deployment_id)}", code="unknown_deployment")
    message_type = body.get(C.MESSAGE_TYPE)
    if not message_type:
        raise LaunchError("The id_token has no message_type claim.", code="missing_message_type")
    if message_type not in C.MESSAGE_TYPES:
        raise LaunchError(f"The message type {message_type!r} is not supported (expected "
                          f"{' or '.join(C.MESSAGE_TYPES)}).", code="bad_message_type")
    if body.get(C.VERSION) != C.LTI_VERSION:
        raise LaunchError(f"The LTI version {body.get(C.VERSION)!r} is not supported (expected 1.3.0).",
                          code="bad_version")
    if not isinstance(body.get(C.ROLES), list):
        raise LaunchError("The id_token has no roles claim (a list, possibly empty).", code="missing_roles")
    if not body.get("sub"):
        raise LaunchError("Anonymous launches (no sub claim) are not supported: Gradeloop needs to "
                          "know who is working.", code="missing_sub")
    if message_type == C.RESOURCE_LINK_REQUEST:
        link = body.get(C.RESOURCE_LINK)
        if not isinstance(link, dict) or not link.get("id"):
            raise LaunchError("The resource link launch has no resource_link id.",
                              code="missing_resource_link")
    else:
        settings = body.get(C.DEEP_LINKING_SETTINGS)
        if not isinstance(settings, dict) or not settings.get("deep_link_return_url"):
            raise LaunchError("The deep linking launch has no deep_link_return_url in its "
                              "deep_linking_settings.", code="missing_return_url")
        if not isinstance(settings["deep_link_return_url"], str):
            raise LaunchError("The deep linking launch's deep_link_return_url is not a URL.",
                              code="bad_deep_linking_settings")
        if not storable(settings["deep_link_return_url"]) or not _web_address(settings["deep_link_return_url"]):
            # The deep-link page posts its answer there from a script: a `javascript:` address
            # would run in the tool's origin.
            raise LaunchError("The deep linking launch's deep_link_return_url is not a web address "
                              "(http or https), so Gradeloop will not send the assignment there.",
                              code="bad_deep_linking_settings")
        if settings.get("accept_types") is not None and not C.is_string_list(settings["accept_types"]):
            raise LaunchError("The deep linking launch's accept_types is not a list of content types, so "
                              "Gradeloop cannot tell whether the LMS accepts an assignment here.",
                              code="bad_deep_linking_settings")


def _web_address(url: str) -> bool:
    parts = urlsplit(url.strip())
    return parts.scheme.lower() in ("http", "https") and bool(parts.netloc)


def verify_id_token(id_token: str | None, row: Row) -> VerifiedLaunch:
    """Every id_token check against the (already consumed) login state; raises LaunchError."""
    header = _header(id_token)
    platform = registry.by_id(row.platform_id)
    if platform is None:
        raise LaunchError("The platform of this login is no longer registered.", code="unknown_platform")
    if platform.disabled:   # disabled after this login started
        raise platform_disabled(platform)
    key = platform_key(platform, header["kid"])
    try:
        body = jwt.decode(id_token, key, algorithms=["RS256"],
                          options={"verify_aud": False, "verify_iss": False, "verify_exp": False,
                                   "verify_iat": False, "verify_nbf": False})
    except jwt.InvalidSignatureError as exc:
        raise LaunchError("The id_token signature does not verify with the platform's key.",
                          code="bad_signature") from exc
    except jwt.InvalidTokenError as exc:
        raise LaunchError(f"The id_token cannot be verified: {exc}", code="bad_token") from exc
    if body.get("iss") != platform.issuer:
        raise LaunchError(f"The id_token issuer (iss) {body.get('iss')!r} is not the platform that "
                          f"started this login ({platform.issuer}).", code="bad_iss")
    _check_audience(body, platform.client_id)
    _check_times(body)
    _check_nonce(body, row, platform)
    _check_message(body, platform)
    return VerifiedLaunch(platform=platform, claims=body, login_state=row)


def platform_disabled(platform: PlatformInfo) -> LaunchError:
    return LaunchError(f"Gradeloop is turned off for {platform.issuer}: its administrator disabled this "
                       f"LMS. Courses and grades are kept. Ask your LMS administrator.",
                       status=403, code="platform_disabled")


def burn_state(state: str | None) -> None:
    """After a refused launch: the state can never be used again (its own small commit)."""
    if not state:
        return
    db.session.execute(update(LoginState).where(LoginState.state == state[:128],
                                                LoginState.used_at.is_(None))
                       .values(used_at=datetime.now(timezone.utc)))
    db.session.commit()
