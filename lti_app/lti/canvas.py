"""`/lti/canvas.json`: the Canvas developer-key JSON ("Enter URL" or paste) for Gradeloop."""
from __future__ import annotations

from flask import jsonify

from lti_app.lti.urls import public_base, public_url

TITLE = "Gradeloop"
DESCRIPTION = ("Essay feedback in your own grading standard: Gradeloop learns from the essays you "
               "grade and gives students a score and written feedback on the essays they hand in.")
SCOPES = [
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly",
    "https://purl.imsglobal.org/spec/lti-ags/scope/score",
    "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly",
    "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly",
]


def canvas_config() -> dict:
    launch = public_url("lti.launch")
    deep_link = {"message_type": "LtiDeepLinkingRequest", "target_link_uri": launch}
    domain = public_base().split("://", 1)[-1].split("/", 1)[0]
    return {
        "title": TITLE,
        "description": DESCRIPTION,
        "oidc_initiation_url": public_url("lti.login"),
        "target_link_uri": launch,
        "public_jwk_url": public_url("lti.jwks"),
        "scopes": SCOPES,
        "extensions": [{
            "domain": domain,
            "tool_id": "gradeloop",
            "platform": "canvas.instructure.com",
            "privacy_level": "public",
            "settings": {
                "text": TITLE,
                "placements": [
                    {"placement": "course_navigation", "message_type": "LtiResourceLinkRequest",
                     "text": TITLE, "target_link_uri": launch, "default": "disabled",
                     "visibility": "admins"},
                    {"placement": "link_selection", **deep_link, "text": f"{TITLE} activity"},
                    {"placement": "assignment_selection", **deep_link, "text": f"{TITLE} essay"},
                ],
            },
        }],
        # No key-level `custom_fields`: Canvas would add them to every launch, and the one custom
        # parameter Gradeloop reads (`gradeloop_assignment`) comes with each link from Deep
        # Linking. The login id, course and assignment ids asked for before were never read, and
        # the login id (often a student number or e-mail) was stored on the shared link row.
    }


def canvas_config_view():
    return jsonify(canvas_config())
