"""Deep Linking settings of a verified launch, kept server-side and keyed by the session's launch_id.

The coursework feature builds the content-item response from them:
`deep_link_for(launch_id).output_response_form([...])` (pylti1p3 signs it with our key).
"""
from __future__ import annotations

from pylti1p3.deep_link import DeepLink

from lti_app.extensions import db
from lti_app.lti.tool_conf import registration_for
from lti_app.models import DeepLinkingRequest, Platform


def save(launch_id: str, platform_id: int, deployment_id: str, settings: dict) -> None:
    db.session.add(DeepLinkingRequest(launch_id=launch_id, platform_id=platform_id,
                                      deployment_id=deployment_id, settings=settings))


def deep_linking_request(launch_id: str) -> DeepLinkingRequest | None:
    return db.session.get(DeepLinkingRequest, launch_id) if launch_id else None


def deep_linking_settings(launch_id: str) -> dict | None:
    """The `deep_linking_settings` claim of the launch (deep_link_return_url, accept_types, data...)."""
    row = deep_linking_request(launch_id)
    return dict(row.settings) if row else None


def deep_link_for(launch_id: str) -> DeepLink | None:
    """pylti1p3 `DeepLink` ready to sign the response (iss=client_id, aud=platform, our kid)."""
    row = deep_linking_request(launch_id)
    if row is None:
        return None
    platform = db.session.get(Platform, row.platform_id)
    return DeepLink(registration_for(platform), row.deployment_id, row.settings)
