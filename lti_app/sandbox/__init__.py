"""Sandbox LMS: a small LTI 1.3 platform (OIDC auth, JWKS with rotation, OAuth2 token endpoint,
AGS, NRPS, deep linking, platform storage) used by `gradeloop run` and by the test peer.

It is a separate Flask app (`app.create_platform_app`) on its own port, never part of the tool.
"""
