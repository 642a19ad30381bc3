"""The platform's OpenID configuration in a dynamic registration: fetched from the
`openid_configuration` URL the LMS hands us, its issuer checked against that URL, and every value
`registration.register` uses or stores checked.

**Checked before the LMS registers us**: each value (its JSON type, a readable URL, its length
against the column, no NUL) is checked before the registration is POSTed: a value refused only at
the INSERT left the LMS holding a registration Gradeloop never stored. `stored_text` is also how
the LMS's answer (client and deployment ids) is checked, after the POST.
"""
from __future__ import annotations

import logging
from urllib.parse import urlparse

from lti_app.lti.claims import is_string_list
from lti_app.lti.errors import LaunchError
from lti_app.lti.registration_fetch import fetch_json, loggable_url
from lti_app.lti.registration_policy import http_url
from lti_app.lti.urls import origin
from lti_app.models import Platform

log = logging.getLogger(__name__)

PLATFORM_CONFIG = "https://purl.imsglobal.org/spec/lti-platform-configuration"
CONFIGURATION = "the platform's OpenID configuration"
# The endpoints `register` uses, and the column each is stored in (None: not stored).
ENDPOINTS = {"authorization_endpoint": Platform.auth_login_url, "token_endpoint": Platform.auth_token_url,
             "jwks_uri": Platform.key_set_url, "registration_endpoint": None}


def fetch_openid_configuration(config_url: str, token: str | None) -> dict:
    """The configuration at `config_url` (the `openid_configuration` the LMS sent), every value
    checked (`check_configuration`), and its `issuer` on the origin of `config_url`.

    The issuer rule is LTI Dynamic Registration 1.0 section 3.5.1 ("Issuer and OpenID
    Configuration URL Match"), which Moodle's guide for tool developers (MDL dev docs, "LTI
    Dynamic Registration") puts as "the issuer domain must match the openid-configuration URL
    domain; a tool should not proceed if there is a mismatch"; the origin adds scheme and port.
    It holds for both LMSs, as read in their code (no live instance here):

    - Moodle: the issuer is `$CFG->wwwroot` and the configuration URL, like every endpoint it
      names, is under it (mod/lti/openid-configuration.php).
    - Canvas builds the configuration URL on its issuer's host, not the school's
      (canvas-lms `Lti::IMS::DynamicRegistrationController#oidc_configuration_url`: the host of
      `lti_iss`, https://canvas.instructure.com on Canvas cloud). Only its endpoints are elsewhere
      (`SecurityController#openid_configuration`): the registration endpoint on the school's
      host, login, token and key set on `Lti::Oidc.auth_domain` (sso.canvaslms.com on Canvas
      cloud). So endpoints are not tied to the configuration URL's host: the allowlist covers the
      registration endpoint, `registration_policy.vet` the key set and token URLs.

    Why refuse the rest: the issuer says whose launches the stored key set may sign, and Canvas
    cloud's is shared by every school. A configuration from one host naming another host's issuer
    would let the first register keys for the second's launches."""
    config = fetch_json("GET", config_url, token, "OpenID configuration URL")
    check_configuration(config)
    issuer = config["issuer"]
    if origin(issuer) != origin(config_url):
        shown = loggable_url(config_url)   # Canvas's carries the registration token
        log.info("dynamic registration: issuer %r from %s", issuer, shown)
        raise LaunchError(f"The issuer in the platform's OpenID configuration does not match the origin "
                          f"of its configuration URL {shown}.", code="registration_bad_issuer")
    return config


def stored_text(value, what: str, column=None, *, number_ok: bool = False) -> str:
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
        http_url(stored_text(config[key], what, column), what)
    if config.get("authorization_server") is not None:
        stored_text(config["authorization_server"], f"authorization_server in {CONFIGURATION}",
                    Platform.auth_audience)
    platform_config = config.get(PLATFORM_CONFIG)
    if platform_config is not None and not isinstance(platform_config, dict):
        raise LaunchError(f"The {PLATFORM_CONFIG} value in {CONFIGURATION} is not a JSON object.",
                          code="registration_invalid")
    family = (platform_config or {}).get("product_family_code")
    if family is not None:
        # Stored as the product family and as the name of a new platform: the smaller column.
        stored_text(family, f"product_family_code in {CONFIGURATION}", Platform.product_family)
    if not family:
        # A platform without a product family is named after its issuer's host.
        stored_text(urlparse(config["issuer"]).netloc, f"host of the issuer in {CONFIGURATION}", Platform.name)
    scopes = config.get("scopes_supported")
    if scopes is not None and not is_string_list(scopes):
        raise LaunchError(f"The scopes_supported in {CONFIGURATION} is not a list of text values.",
                          code="registration_invalid")
