"""LTI 1.3 launches from the platform side: login initiation, the OIDC authorization endpoint
and the id_token it form-posts to the tool (resource link and deep linking requests).

Claims are assembled with lti1p3platform's `LTIAdvantageMessageLaunchAbstract` setters (user,
roles, context, resource link, presentation, custom, AGS, NRPS, deep linking) through a thin
Flask adapter; signing goes through our `KeyRing` (kid + rotation, see keys.py). `set_ags` is
always given the lineitems URL: with only a lineitem URL the package edits the scope list while
iterating over it and keeps the wrong scopes.
"""
from __future__ import annotations

import secrets
import time
import typing as t
from urllib.parse import urlencode

from flask import Blueprint, current_app, render_template, request
from lti1p3platform.deep_linking import LtiDeepLinking
from lti1p3platform.ltiplatform import LTI1P3PlatformConfAbstract
from lti1p3platform.message_launch import LTIAdvantageMessageLaunchAbstract
from lti1p3platform.registration import Registration

from lti_app.sandbox.state import AGS_SCOPES, NRPS_SCOPE, LaunchSpec, PlatformState, role_uris

bp = Blueprint("sandbox_oidc", __name__)

LTI = "https://purl.imsglobal.org/spec/lti/claim/"
DL_SETTINGS = "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"
AGS_CLAIM = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
DEEP_LINKING = "LtiDeepLinkingRequest"
RESOURCE_LINK = "LtiResourceLinkRequest"
PRODUCT_FAMILY = "gradeloop-sandbox"


def product_family(state) -> str:
    """The family launches and registration name: the LMS the sandbox plays, else its own."""
    return state.product_family or PRODUCT_FAMILY
ID_TOKEN_LIFETIME = 300


class _PlatformConf(LTI1P3PlatformConfAbstract):
    """The package's registration holder, filled from our `PlatformState`."""

    def init_platform_config(self, **kwargs: t.Any) -> None:
        self.state: PlatformState = kwargs["state"]

    def get_registration_by_params(self, **kwargs: t.Any) -> Registration:
        tool = self.state.tool
        return (Registration().set_iss(self.state.issuer).set_client_id(tool.client_id)
                .set_deployment_id(tool.deployment_id).set_launch_url(tool.launch_url)
                .set_oidc_login_url(tool.login_url).set_deeplink_launch_url(tool.deep_link_url)
                .set_tool_key_set_url(tool.jwks_url))


class FlaskMessageLaunch(LTIAdvantageMessageLaunchAbstract):
    """Flask adapter: the preflight (auth request) comes from GET or POST values."""

    def get_preflight_response(self) -> dict[str, t.Any]:
        return request.values.to_dict() if self._request is not None else {}

    def render_launch_form(self, launch_data: dict[str, t.Any], **kwargs: t.Any):
        return render_template("sandbox/autopost.html", action=launch_data["launch_url"],
                               fields={k: v for k, v in launch_data.items() if k != "launch_url"})


def start_launch(state: PlatformState, *, user_id: str, course_id: str, role=None,
                 resource_link_id: str | None = "rl-1", message_type: str = RESOURCE_LINK,
                 claims: dict | None = None, drop_claims=(), id_token: str | None = None,
                 storage_target: str | None = None, return_url: str = "") -> LaunchSpec:
    """Record a launch the platform is about to initiate; the roster learns the user's role."""
    with state.lock:
        course = state.course(course_id)
        member = course.members.get(user_id)
        if role is not None:
            if member is None:
                member = state.add_member(course_id, user_id, role)
            else:
                member.roles = role_uris(role)   # a role change in the LMS keeps the person's details
        elif member is None:
            raise ValueError(f"{user_id} is not in course {course_id}; pass role=")
        if message_type == RESOURCE_LINK and resource_link_id:
            state.resource_link(course_id, resource_link_id)
        tool = state.tool
        spec = LaunchSpec(
            hint=secrets.token_urlsafe(12), user_id=user_id, roles=list(member.roles), course_id=course_id,
            resource_link_id=resource_link_id if message_type == RESOURCE_LINK else None,
            message_type=message_type,
            target_link_uri=tool.deep_link_url if message_type == DEEP_LINKING else _link_target(state, course_id, resource_link_id),
            claims=dict(claims or {}), drop_claims=tuple(drop_claims), id_token=id_token,
            storage_target=storage_target, return_url=return_url or state.url(f"/courses/{course_id}"))
        state.launches[spec.hint] = spec
        return spec


def _link_target(state: PlatformState, course_id: str, link_id: str | None) -> str:
    link = state.courses[course_id].resource_links.get(link_id or "")
    return (link.url if link and link.url else "") or state.tool.launch_url


def initiation_params(state: PlatformState, spec: LaunchSpec) -> dict[str, str]:
    """Third-party initiated login parameters (LTI 1.3 core, section 5.1.1)."""
    params = {"iss": state.issuer, "login_hint": spec.user_id, "target_link_uri": spec.target_link_uri,
              "lti_message_hint": spec.hint, "client_id": state.tool.client_id,
              "lti_deployment_id": state.tool.deployment_id}
    if spec.storage_target:
        params["lti_storage_target"] = spec.storage_target
    return params


def initiation_url(state: PlatformState, spec: LaunchSpec) -> str:
    return state.tool.login_url + "?" + urlencode(initiation_params(state, spec))


def build_claims(state: PlatformState, spec: LaunchSpec, nonce: str) -> dict:
    """The id_token payload for `spec`, before the spec's overrides are applied."""
    conf = _PlatformConf(state=state)
    launch = FlaskMessageLaunch(None, conf)  # type: ignore[arg-type]
    launch._registration = conf.get_registration()
    course = state.courses[spec.course_id]
    member = course.members[spec.user_id]
    launch.set_user_data(spec.user_id, list(spec.roles), full_name=member.name, email_address=member.email)
    launch.set_launch_context_claim(course.id, ["http://purl.imsglobal.org/vocab/lis/v2/course#CourseOffering"],
                                    course.title, course.label)
    launch.set_launch_presentation_claim("iframe", spec.return_url)
    launch.set_launch_url(spec.target_link_uri)
    link = course.resource_links.get(spec.resource_link_id or "") if spec.message_type == RESOURCE_LINK else None
    lineitem_url = None
    if link is not None:
        launch.set_resource_link_claim(link.id, link.text or None, link.title)
        launch.set_custom_parameters_claim(dict(link.custom))
        if link.line_item_id is not None and link.line_item_id in state.line_items:
            lineitem_url = state.lineitem_url(course.id, link.line_item_id)
    granted = set(state.tool.scopes)
    ags_scopes = [s for s in AGS_SCOPES if s in granted]
    if ags_scopes:
        launch.set_ags(state.lineitems_url(course.id), lineitem_url)
        # The claim lists what this registration may do (e.g. score only: "grade sync" set-ups).
        launch.extra_claims[AGS_CLAIM]["scope"] = ags_scopes
    if NRPS_SCOPE in granted:
        launch.set_nrps(state.memberships_url(course.id))
    claims = launch.get_launch_message()
    now = int(time.time())
    claims.update({
        "sub": spec.user_id, "nonce": nonce, "iat": now, "exp": now + ID_TOKEN_LIFETIME,
        "given_name": member.given_name, "family_name": member.family_name,
        LTI + "message_type": spec.message_type,
        LTI + "tool_platform": {"guid": state.guid, "product_family_code": product_family(state),
                                "name": "Gradeloop Sandbox LMS", "version": "1.0"},
    })
    claims.setdefault(LTI + "custom", {})
    claims[LTI + "launch_presentation"]["locale"] = "en"
    if spec.message_type == DEEP_LINKING:
        dl = LtiDeepLinking(state.deep_link_return_url).get_lti_deep_linking_launch_claim(
            title="Gradeloop", description="Add Gradeloop content to the course",
            accept_types={"ltiResourceLink"}, extra_data=None)
        settings = dl[DL_SETTINGS]
        settings.update(accept_presentation_document_targets=["iframe", "window"], data=spec.hint)
        claims.update(dl)
    return claims


def finish_claims(claims: dict, spec: LaunchSpec) -> dict:
    """Apply a spec's test overrides: merged claims, then dropped claim names."""
    claims = {**claims, **spec.claims}
    for name in spec.drop_claims:
        claims.pop(name, None)
    return claims


def _error(status: int, message: str):
    return render_template("sandbox/message.html", title="Launch refused", message=message,
                           status=status), status


@bp.route("/auth", methods=["GET", "POST"])
def authorize():
    """OIDC authorization endpoint: validates the tool's auth request, answers with an
    auto-submitting form that posts id_token + state to the registered redirect_uri."""
    state: PlatformState = current_app.extensions["sandbox_state"]
    keys = current_app.extensions["sandbox_keys"]
    params = request.values.to_dict()
    tool = state.tool
    if params.get("client_id") != tool.client_id:
        return _error(400, f"Unknown client_id {params.get('client_id')!r}.")
    redirect_uri = params.get("redirect_uri", "")
    if redirect_uri not in tool.redirect_uris:
        return _error(400, f"redirect_uri {redirect_uri!r} is not registered for this tool.")

    def refuse(error: str, description: str):
        # OIDC Core 3.1.2.6: once the redirect_uri is trusted, errors go back to the tool.
        fields = {"error": error, "error_description": description}
        if params.get("state"):
            fields["state"] = params["state"]
        return render_template("sandbox/autopost.html", action=redirect_uri, fields=fields), 200

    if params.get("scope") != "openid":
        return refuse("invalid_scope", "scope must be 'openid'")
    if params.get("response_type") != "id_token":
        return refuse("unsupported_response_type", "response_type must be 'id_token'")
    if params.get("response_mode") != "form_post":
        return refuse("invalid_request", "response_mode must be 'form_post'")
    if params.get("prompt") != "none":
        return refuse("invalid_request", "prompt must be 'none'")
    if not params.get("nonce"):
        return refuse("invalid_request", "nonce is required")
    if not params.get("state"):
        return refuse("invalid_request", "state is required")
    with state.lock:
        spec = state.launches.get(params.get("lti_message_hint", ""))
    if spec is None:
        return refuse("invalid_request", "lti_message_hint is unknown or expired")
    if params.get("login_hint") != spec.user_id:
        return refuse("login_required", "login_hint does not match the user who launched")
    launch = FlaskMessageLaunch(request, _PlatformConf(state=state))
    launch._registration = launch._platform_config.get_registration()
    launch.validate_preflight_response(params)   # nonce, state, redirect_uri, client_id
    claims = finish_claims(build_claims(state, spec, params["nonce"]), spec)
    id_token = spec.id_token or keys.sign(claims)
    with state.lock:
        spec.sent_claims, spec.sent_id_token, spec.sent_state, spec.used = claims, id_token, params.get("state", ""), True
    launch_data = {"launch_url": redirect_uri, "id_token": id_token, "state": params.get("state", "")}
    if spec.storage_target:
        launch_data["lti_storage_target"] = spec.storage_target
    return launch.render_launch_form(launch_data)


@bp.get("/jwks")
def jwks():
    keys = current_app.extensions["sandbox_keys"]
    response = current_app.json.response(keys.jwks())
    response.headers["Cache-Control"] = "max-age=60"
    return response
