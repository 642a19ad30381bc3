"""`/lti/register`: LTI Dynamic Registration 1.0 as Moodle 4.1+ and Canvas run it.

The LMS opens this page (iframe or popup) with `openid_configuration` and usually a
`registration_token`. We fetch the platform's OpenID configuration, POST our client
registration to its `registration_endpoint`, store the platform with `upsert_platform`, and
answer a page that tells the LMS to close the dialog (`org.imsglobal.lti.close`).

The page is unauthenticated, so it must not be a way to make this server fetch arbitrary URLs
(SSRF) and read the answers:

- **Who may register.** `GRADELOOP_REGISTRATION_ORIGINS` lists the LMS origins allowed (the
  configuration URL and the registration endpoint must both be on one of them); `*` allows any
  public origin. Unset: any public origin in development and test, and **nothing in production**
  (a stranger's registration adds a platform whose origin may frame Gradeloop, and whose
  launches create courses and training work). `lti.init_app` logs a warning at start then.
- **Where we connect.** Every URL this page fetches, and the key set and token URLs we will use
  later, must resolve only to public addresses: loopback, private (RFC 1918, fc00::/7),
  link-local (169.254.0.0/16, where cloud metadata services answer), CGNAT, multicast and
  reserved addresses are refused, unless the URL's origin is listed in
  GRADELOOP_REGISTRATION_ORIGINS (schools host Moodle on private networks: listing it is how they
  allow it). Development also allows loopback, for the sandbox LMS of `gradeloop run`.
- **No DNS rebinding between check and fetch.** The host is resolved once; the request is sent
  to the address that was checked (Host header and TLS SNI/certificate still use the name), so
  a name that answers a public address to the check and 127.0.0.1 to the fetch gains nothing.
  Limits: when an HTTP(S) proxy is configured in the environment the proxy resolves the name
  again; and the key set / token URLs are checked here but resolved afresh whenever they are used
  later (a platform's DNS may change after registration).
- **Checked before the LMS registers us.** Every value of the platform's configuration that is
  used or stored is checked (its JSON type, a readable URL, its length against the column, no NUL)
  before the registration is POSTed: a value refused only at the INSERT left the LMS holding a
  registration Gradeloop never stored. What the LMS answers (client and deployment ids) can only be
  checked after; that refusal tells the administrator to delete the LMS's side of it.
- **Nothing fetched is echoed.** Errors say what was wrong in our words (the HTTP status, "not a
  JSON object"...), never the body or values of the answer; details go to the log.
"""
from __future__ import annotations

import ipaddress
import json
import logging
import os
import socket
from urllib.parse import ParseResult, urlparse, urlunparse

import requests
from flask import current_app, make_response, render_template, request
from requests.adapters import HTTPAdapter
from sqlalchemy.exc import DataError

from lti_app.lti import framing, registry
from lti_app.lti.canvas import SCOPES, TITLE, DESCRIPTION
from lti_app.lti.claims import is_string_list
from lti_app.lti.errors import LaunchError
from lti_app.lti.urls import origin, public_base, public_url
from lti_app.models import Deployment, Platform
from lti_app.platforms import check_issuer, similar_issuer, upsert_platform

log = logging.getLogger(__name__)

PLATFORM_CONFIG = "https://purl.imsglobal.org/spec/lti-platform-configuration"
TOOL_CONFIG = "https://purl.imsglobal.org/spec/lti-tool-configuration"
MAX_BYTES = 1_000_000
ANY_ORIGIN = "*"
CONFIGURATION = "the platform's OpenID configuration"
ANSWER = "the platform's answer to the registration"
# The endpoints `register` uses, and the column each is stored in (None: not stored).
ENDPOINTS = {"authorization_endpoint": Platform.auth_login_url, "token_endpoint": Platform.auth_token_url,
             "jwks_uri": Platform.key_set_url, "registration_endpoint": None}
# Added to a refusal that comes after the registration was POSTed: the LMS holds it already.
REGISTERED_ANYWAY = (" The LMS may now list Gradeloop as registered: delete that registration in the LMS "
                     "before trying again.")
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
            raise LaunchError(f"Registrations from this LMS are not allowed on this Gradeloop: the {shown} is "
                              f"not on an origin listed in GRADELOOP_REGISTRATION_ORIGINS.",
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


def _http(method: str, url: str, token: str | None, what: str, *, fetched: bool = False, **kwargs) -> dict:
    address = vet(url, what, fetched=fetched)
    shown = what if fetched else f"{what} {url}"
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
            log.info("dynamic registration: %s %s failed: %s", method, url, exc)
            raise LaunchError(f"Could not reach the {shown} (the connection failed or timed out).",
                              code="registration_unreachable") from exc
    if resp.status_code >= 300:
        # The status only: the body (or a redirect's Location) of whatever answered stays here.
        log.info("dynamic registration: %s %s answered %s: %r", method, url, resp.status_code, body[:300])
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


def fetch_openid_configuration(config_url: str, token: str | None) -> dict:
    config = _http("GET", config_url, token, "OpenID configuration URL")
    check_configuration(config)
    issuer = config["issuer"]
    if origin(issuer) != origin(config_url):
        log.info("dynamic registration: issuer %r from %s", issuer, config_url)
        raise LaunchError(f"The issuer in the platform's OpenID configuration does not match the origin "
                          f"of its configuration URL {config_url}.", code="registration_bad_issuer")
    return config


def _text(value, what: str, column=None, *, number_ok: bool = False) -> str:
    """`value` as text Gradeloop can store in `column`: a string (or, with `number_ok`, an integer:
    some LMSs send ids as JSON numbers) no longer than the column and without NUL, which
    PostgreSQL refuses. Checked here because the database refuses it only at the INSERT, after
    the LMS has already registered Gradeloop."""
    if number_ok and isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise LaunchError(f"The {what} is not text.", code="registration_invalid")
    size = column.property.columns[0].type.length if column is not None else None
    if size is not None and len(value) > size:
        raise LaunchError(f"The {what} is longer than the {size} characters Gradeloop can store.",
                          code="registration_invalid")
    if "\x00" in value:
        raise LaunchError(f"The {what} contains a NUL character.", code="registration_invalid")
    return value


def check_configuration(config: dict) -> None:
    """Refuse, in words, a configuration with a value `register` could not use or store: all of
    it is checked before anything is POSTed to the LMS."""
    missing = [key for key in ("issuer", *ENDPOINTS) if config.get(key) in (None, "")]
    if missing:
        raise LaunchError(f"The platform's OpenID configuration lacks {', '.join(missing)}.",
                          code="registration_incomplete")
    for key, column in {"issuer": Platform.issuer, **ENDPOINTS}.items():
        what = f"{key} in {CONFIGURATION}"
        http_url(_text(config[key], what, column), what)
    if config.get("authorization_server") is not None:
        _text(config["authorization_server"], f"authorization_server in {CONFIGURATION}",
              Platform.auth_audience)
    platform_config = config.get(PLATFORM_CONFIG)
    if platform_config is not None and not isinstance(platform_config, dict):
        raise LaunchError(f"The {PLATFORM_CONFIG} value in {CONFIGURATION} is not a JSON object.",
                          code="registration_invalid")
    family = (platform_config or {}).get("product_family_code")
    if family is not None:
        # Stored as the product family and as the name of a new platform: the smaller column.
        _text(family, f"product_family_code in {CONFIGURATION}", Platform.product_family)
    if not family:
        # A platform without a product family is named after its issuer's host.
        _text(urlparse(config["issuer"]).netloc, f"host of the issuer in {CONFIGURATION}", Platform.name)
    scopes = config.get("scopes_supported")
    if scopes is not None and not is_string_list(scopes):
        raise LaunchError(f"The scopes_supported in {CONFIGURATION} is not a list of text values.",
                          code="registration_invalid")


def tool_registration(config: dict) -> dict:
    """The client registration we send (OIDC dynamic client registration + LTI tool claim)."""
    launch = public_url("lti.launch")
    family = (config.get(PLATFORM_CONFIG) or {}).get("product_family_code", "")
    if family == "canvas":
        picker = ["https://canvas.instructure.com/lti/assignment_selection",
                  "https://canvas.instructure.com/lti/link_selection"]
    else:
        picker = ["ContentArea"]
    supported = set(config.get("scopes_supported") or SCOPES)
    return {
        "application_type": "web",
        "response_types": ["id_token"],
        "grant_types": ["implicit", "client_credentials"],
        "initiate_login_uri": public_url("lti.login"),
        "redirect_uris": [launch],
        "client_name": TITLE,
        "jwks_uri": public_url("lti.jwks"),
        "token_endpoint_auth_method": "private_key_jwt",
        "scope": " ".join(s for s in SCOPES if s in supported),
        TOOL_CONFIG: {
            "domain": urlparse(public_base()).netloc,
            "description": DESCRIPTION,
            "target_link_uri": launch,
            "claims": ["iss", "sub", "name", "given_name", "family_name", "email"],
            # Deep Linking first. Canvas gives a message without placements the `link_selection`
            # placement and keeps the first message per placement (Lti::IMS::Registration#placements),
            # so with the resource-link message first, "add to a module" opened a plain launch
            # instead of the assignment picker.
            "messages": [
                {"type": "LtiDeepLinkingRequest", "target_link_uri": launch, "label": f"{TITLE} essay",
                 "placements": picker, "supported_types": ["ltiResourceLink"]},
                {"type": "LtiResourceLinkRequest", "target_link_uri": launch, "label": TITLE},
            ],
        },
    }


def _cannot_store(exc: ValueError, after: str = "") -> LaunchError:
    """`upsert_platform`'s refusal (a ValueError in words) as the registration's."""
    reason = str(exc).rstrip(".")
    return LaunchError(f"The platform's configuration cannot be stored: {reason}.{after}",
                       code="registration_invalid")


def _check_issuer_storable(issuer: str) -> None:
    """What `upsert_platform` would refuse about a new platform's issuer, asked before the POST."""
    try:
        check_issuer(issuer)
    except ValueError as exc:
        raise _cannot_store(exc) from exc
    other = similar_issuer(issuer)
    if other is not None:
        raise LaunchError(f"The platform's issuer differs from the issuer of registered platform {other.id} "
                          f"only by a trailing slash or letter case, so its launches would never match.",
                          code="registration_invalid")


def _answer_values(answer: dict) -> tuple[str, list[str]]:
    """The client id and deployment ids from the LMS's answer to our registration."""
    if answer.get("client_id") in (None, ""):
        raise LaunchError("The platform accepted the registration but returned no client_id.",
                          code="registration_no_client")
    client_id = _text(answer["client_id"], f"client_id in {ANSWER}", Platform.client_id, number_ok=True)
    tool_config = answer.get(TOOL_CONFIG)
    if tool_config is not None and not isinstance(tool_config, dict):
        raise LaunchError(f"The {TOOL_CONFIG} value in {ANSWER} is not a JSON object.",
                          code="registration_invalid")
    deployment = (tool_config or {}).get("deployment_id")
    if deployment in (None, ""):
        return client_id, []
    deployment = _text(deployment, f"deployment_id in {ANSWER}", Deployment.deployment_id, number_ok=True)
    return client_id, [deployment]


def register(config_url: str, token: str | None):
    config = fetch_openid_configuration(config_url, token)
    # URLs the worker and launches will contact later: public (or listed) now, before we store them.
    vet(config["jwks_uri"], "platform's key set URL (jwks_uri)", must_be_listed=False, fetched=True)
    vet(config["token_endpoint"], "platform's token endpoint", must_be_listed=False, fetched=True)
    _check_issuer_storable(config["issuer"])
    answer = _http("POST", config["registration_endpoint"], token, "platform's registration endpoint",
                   fetched=True, json=tool_registration(config))
    family = (config.get(PLATFORM_CONFIG) or {}).get("product_family_code")
    try:
        client_id, deployment_ids = _answer_values(answer)
        platform = upsert_platform(
            issuer=config["issuer"], client_id=client_id, deployment_ids=deployment_ids,
            auth_login_url=config["authorization_endpoint"], auth_token_url=config["token_endpoint"],
            key_set_url=config["jwks_uri"], name=family or "",
            auth_audience=config.get("authorization_server"), product_family=family)
    except LaunchError as exc:
        raise LaunchError(exc.message + REGISTERED_ANYWAY, status=exc.status, code=exc.code) from exc
    except ValueError as exc:
        raise _cannot_store(exc, REGISTERED_ANYWAY) from exc
    except DataError as exc:
        # What the checks above did not foresee: still the platform's values, refused in words.
        log.warning("dynamic registration: the database refused platform %s: %s", config["issuer"], exc.orig)
        raise LaunchError("The platform's registration has a value Gradeloop cannot store." + REGISTERED_ANYWAY,
                          code="registration_invalid") from exc
    framing.forget()
    registry.forget()
    return platform


def register_view():
    config_url = request.values.get("openid_configuration")
    if not config_url:
        raise LaunchError("This is Gradeloop's LTI Dynamic Registration URL: open it from your LMS "
                          "(it must send openid_configuration).", code="registration_bad_request")
    platform = register(config_url, request.values.get("registration_token"))
    response = make_response(render_template("lti/registered.html", platform=platform))
    # The LMS shows this page in its own admin UI before it is a registered platform.
    response.headers["Content-Security-Policy"] = "frame-ancestors *"
    return response
