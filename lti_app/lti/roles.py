"""Map the LTI roles claim to Gradeloop's course role (Instructor, TA, Learner, Administrator).

Context (course membership) roles decide first: Canvas also sends institution roles that have
nothing to do with this course (a faculty member enrolled as a student is a Learner here).
Short names ("Instructor") and LTI 1.1 URNs are context roles too, as LTI 1.3 says.
"""
from __future__ import annotations

from collections.abc import Iterable

from lti_app.models import Role

LIS = "http://purl.imsglobal.org/vocab/lis/v2/"
URN_CONTEXT = "urn:lti:role:ims/lis/"
URN_INSTITUTION = "urn:lti:instrole:ims/lis/"
URN_SYSTEM = "urn:lti:sysrole:ims/lis/"


def parse_role(uri: str) -> tuple[str, str, str | None]:
    """`(kind, principal, sub_role)` with kind in context / institution / system / unknown."""
    uri = uri.strip()
    if uri.startswith(LIS):
        path = uri[len(LIS):]                       # membership#Instructor, membership/Instructor#TeachingAssistant
        head, _, name = path.partition("#")
        parts = head.split("/")
        if parts[0] == "membership":
            if len(parts) > 1:                      # sub-role form: membership/<principal>#<sub>
                return "context", parts[1], name or None
            return "context", name, None
        if parts[0] in ("institution", "system"):   # institution/person#Administrator
            return parts[0], name, None
        return "unknown", name or head, None
    for prefix, kind in ((URN_CONTEXT, "context"), (URN_INSTITUTION, "institution"), (URN_SYSTEM, "system")):
        if uri.startswith(prefix):
            principal, _, sub = uri[len(prefix):].partition("/")
            return kind, principal, sub or None
    if "/" not in uri and ":" not in uri and "#" not in uri:
        return "context", uri, None               # deprecated short form
    return "unknown", uri, None


def resolve_role(roles: Iterable[str]) -> Role | None:
    """The course role for a roles claim, or None when nothing Gradeloop knows applies."""
    context: set[str] = set()
    elsewhere: set[str] = set()
    teaching_assistant = False
    for uri in roles:
        if not isinstance(uri, str):
            continue
        kind, principal, sub = parse_role(uri)
        if kind == "context":
            context.add(principal)
            teaching_assistant |= principal == "TeachingAssistant" or sub == "TeachingAssistant"
        elif kind in ("institution", "system"):
            elsewhere.add(principal)
    if teaching_assistant:
        return Role.TA
    if "Instructor" in context:
        return Role.INSTRUCTOR
    if "Administrator" in context:
        return Role.ADMINISTRATOR
    if context & {"Learner", "Member"}:
        return Role.LEARNER
    if context:
        # A course role we do not support (Mentor, ContentDeveloper): the institution roles
        # Canvas adds to every launch must not turn an observer into a student of this course,
        # or a designer who administers the school's account into a grader.
        return None
    if "Administrator" in elsewhere:
        return Role.ADMINISTRATOR
    if elsewhere & {"Student", "Learner"}:
        return Role.LEARNER
    return None
