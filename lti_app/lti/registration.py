"""`/lti/register`: LTI Dynamic Registration 1.0 as Moodle 4.1+ and Canvas run it.

The LMS opens this page (iframe or popup) with `openid_configuration` and usually a
`registration_token`. We fetch the platform's OpenID configuration (`openid_configuration`), POST
our client registration to its `registration_endpoint`, store the platform with `upsert_platform`,
and answer a page that tells the LMS to close the dialog (`org.imsglobal.lti.close`): at once, or
when the administrator presses Done if it warns that an earlier registration holds courses.

The page is unauthenticated: `registration_policy` decides who may register and which addresses
we contact, `registration_fetch` makes the requests (pinned to the checked address, nothing
fetched echoed). What the LMS answers (client and deployment ids) can only be checked after the
POST; that refusal tells the administrator to delete the LMS's side of it.
"""
from __future__ import annotations

import logging
from urllib.parse import urlparse

from flask import make_response, render_template, request
from sqlalchemy.exc import DataError

from lti_app.lti import framing, registry
from lti_app.lti.canvas import SCOPES, TITLE, DESCRIPTION
from lti_app.lti.errors import LaunchError
from lti_app.lti.openid_configuration import PLATFORM_CONFIG, fetch_openid_configuration, stored_text
from lti_app.lti.registration_fetch import fetch_json
from lti_app.lti.registration_policy import vet
from lti_app.lti.urls import public_base, public_url
from lti_app.models import Deployment, Platform
from lti_app.platforms import check_issuer, similar_issuer, upsert_platform
from lti_app.reregistration import earlier_with_courses

log = logging.getLogger(__name__)

TOOL_CONFIG = "https://purl.imsglobal.org/spec/lti-tool-configuration"
ANSWER = "the platform's answer to the registration"
# Added to a refusal that comes after the registration was POSTed: the LMS holds it already.
REGISTERED_ANYWAY = (" The LMS may now list Gradeloop as registered: delete that registration in the LMS "
                     "before trying again.")


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
    client_id = stored_text(answer["client_id"], f"client_id in {ANSWER}", Platform.client_id, number_ok=True)
    tool_config = answer.get(TOOL_CONFIG)
    if tool_config is not None and not isinstance(tool_config, dict):
        raise LaunchError(f"The {TOOL_CONFIG} value in {ANSWER} is not a JSON object.",
                          code="registration_invalid")
    deployment = (tool_config or {}).get("deployment_id")
    if deployment in (None, ""):
        return client_id, []
    deployment = stored_text(deployment, f"deployment_id in {ANSWER}", Deployment.deployment_id, number_ok=True)
    return client_id, [deployment]


def register(config_url: str, token: str | None):
    config = fetch_openid_configuration(config_url, token)
    # URLs the worker and launches will contact later: public (or listed) now, before we store them.
    vet(config["jwks_uri"], "platform's key set URL (jwks_uri)", must_be_listed=False, fetched=True)
    vet(config["token_endpoint"], "platform's token endpoint", must_be_listed=False, fetched=True)
    _check_issuer_storable(config["issuer"])
    answer = fetch_json("POST", config["registration_endpoint"], token, "platform's registration endpoint",
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
    earlier = earlier_with_courses(platform)
    for other, courses in earlier:
        log.warning("dynamic registration: %s registered again as platform %s; platform %s holds %s course(s): "
                    "gradeloop platform move-courses %s %s", platform.issuer, platform.id, other.id, courses,
                    other.id, platform.id)
    response = make_response(render_template("lti/registered.html", platform=platform, earlier=earlier))
    # The LMS shows this page in its own admin UI before it is a registered platform.
    response.headers["Content-Security-Policy"] = "frame-ancestors *"
    return response
