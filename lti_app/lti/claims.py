"""LTI 1.3 claim names used by the launch and by other features, and the shape check they share."""
LTI = "https://purl.imsglobal.org/spec/lti/claim/"
MESSAGE_TYPE = LTI + "message_type"
VERSION = LTI + "version"
DEPLOYMENT_ID = LTI + "deployment_id"
ROLES = LTI + "roles"
RESOURCE_LINK = LTI + "resource_link"
CONTEXT = LTI + "context"
TARGET_LINK_URI = LTI + "target_link_uri"
CUSTOM = LTI + "custom"
TOOL_PLATFORM = LTI + "tool_platform"
DEEP_LINKING_SETTINGS = "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"
AGS_ENDPOINT = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
NRPS = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"

RESOURCE_LINK_REQUEST = "LtiResourceLinkRequest"
DEEP_LINKING_REQUEST = "LtiDeepLinkingRequest"
MESSAGE_TYPES = (RESOURCE_LINK_REQUEST, DEEP_LINKING_REQUEST)
LTI_VERSION = "1.3.0"


def is_string_list(value) -> bool:
    """Whether a claim the spec defines as an array of strings (accept_types...) is one: a signed
    token is the platform's word, not proof that its JSON has the shape the spec gives it."""
    return isinstance(value, list) and all(isinstance(item, str) for item in value)
