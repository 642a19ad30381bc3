"""LTI Names and Role Provisioning Services 2.0: the course roster, all pages."""
from __future__ import annotations

from dataclasses import dataclass

from lti_app.lms.client import LmsClient

SCOPE_MEMBERSHIP = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
MT_MEMBERSHIPS = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"

LEARNER_ROLES = ("http://purl.imsglobal.org/vocab/lis/v2/membership#Learner", "Learner")


@dataclass(frozen=True)
class Member:
    user_id: str
    name: str
    email: str
    roles: tuple[str, ...]
    status: str

    @property
    def is_learner(self) -> bool:
        return any(r in LEARNER_ROLES or r.endswith("#Learner") for r in self.roles)

    @property
    def active(self) -> bool:
        return self.status.lower() == "active"


def _member(raw: dict) -> Member | None:
    user_id = raw.get("user_id")
    if not user_id:
        return None
    name = raw.get("name") or " ".join(p for p in (raw.get("given_name"), raw.get("family_name")) if p)
    return Member(user_id=str(user_id), name=name or "", email=raw.get("email") or "",
                  roles=tuple(raw.get("roles") or ()), status=raw.get("status") or "Active")


def memberships(client: LmsClient, memberships_url: str, *, role: str | None = None) -> list[Member]:
    """Every member of the context (following `rel="next"`), deduplicated by user id."""
    members: dict[str, Member] = {}
    params = {"role": role} if role else None
    for page in client.get_paged(memberships_url, [SCOPE_MEMBERSHIP], "the course roster",
                                 accept=MT_MEMBERSHIPS, params=params):
        for raw in (page.get("members") or []) if isinstance(page, dict) else []:
            member = _member(raw) if isinstance(raw, dict) else None
            if member:
                members[member.user_id] = member
    return list(members.values())
