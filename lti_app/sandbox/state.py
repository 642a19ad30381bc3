"""In-memory state of the sandbox LMS: the registered tool, courses with rosters and resource
links, the gradebook (line items, scores), pending launches, access tokens and injected failures.

One `PlatformState` per platform instance; every HTTP handler and the test-side `Peer` share it
under one lock (the platform's werkzeug server is threaded).
"""
from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass, field

LIS = "http://purl.imsglobal.org/vocab/lis/v2/"
LEARNER = LIS + "membership#Learner"
INSTRUCTOR = LIS + "membership#Instructor"
TEACHING_ASSISTANT = LIS + "membership/Instructor#TeachingAssistant"
ADMINISTRATOR = LIS + "institution/person#Administrator"

ROLE_URIS = {
    "instructor": [INSTRUCTOR], "teacher": [INSTRUCTOR],
    "learner": [LEARNER], "student": [LEARNER],
    "teachingassistant": [TEACHING_ASSISTANT], "ta": [TEACHING_ASSISTANT],
    "administrator": [ADMINISTRATOR], "admin": [ADMINISTRATOR],
    "contentdeveloper": [LIS + "membership#ContentDeveloper"],
    "mentor": [LIS + "membership#Mentor"],
}

AGS_SCOPES = (
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly",
    "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly",
    "https://purl.imsglobal.org/spec/lti-ags/scope/score",
)
NRPS_SCOPE = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"


def role_uris(role) -> list[str]:
    """'Instructor' / 'Learner' / 'TA' / 'Administrator', a full role URI, or a list of them."""
    if isinstance(role, (list, tuple)):
        return [uri for r in role for uri in role_uris(r)]
    if "://" in role:
        return [role]
    try:
        return list(ROLE_URIS[role.replace("_", "").replace("-", "").lower()])
    except KeyError:
        raise ValueError(f"unknown role {role!r}; use one of {sorted(ROLE_URIS)} or a role URI") from None


def is_learner(roles: list[str]) -> bool:
    return LEARNER in roles


@dataclass
class ToolRegistration:
    """What the platform knows about the tool (from the tool's registration page)."""

    client_id: str
    deployment_id: str
    login_url: str
    launch_url: str
    jwks_url: str
    deep_link_url: str
    redirect_uris: list[str]
    public_jwks: dict | None = None       # registered public keys instead of / besides jwks_url
    scopes: tuple[str, ...] = AGS_SCOPES + (NRPS_SCOPE,)

    @classmethod
    def for_tool(cls, tool_url: str, client_id: str, deployment_id: str) -> ToolRegistration:
        base = tool_url.rstrip("/")
        launch = base + "/lti/launch"
        return cls(client_id=client_id, deployment_id=deployment_id, login_url=base + "/lti/login",
                   launch_url=launch, jwks_url=base + "/lti/jwks", deep_link_url=launch,
                   redirect_uris=[launch])


@dataclass
class Member:
    user_id: str
    roles: list[str]
    name: str = ""
    given_name: str = ""
    family_name: str = ""
    email: str = ""
    status: str = "Active"

    def as_nrps(self) -> dict:
        data = {"status": self.status, "user_id": self.user_id, "roles": list(self.roles)}
        for key in ("name", "given_name", "family_name", "email"):
            if getattr(self, key):
                data[key] = getattr(self, key)
        return data


@dataclass
class ResourceLink:
    id: str
    title: str
    url: str = ""                  # tool URL the link launches (deep-linked items carry their own)
    custom: dict = field(default_factory=dict)
    line_item_id: int | None = None
    text: str = ""


@dataclass
class Course:
    id: str
    title: str
    label: str
    members: dict[str, Member] = field(default_factory=dict)
    resource_links: dict[str, ResourceLink] = field(default_factory=dict)
    content_items: list[dict] = field(default_factory=list)   # from deep linking responses


@dataclass
class LaunchSpec:
    """One launch the platform has started (login initiation sent); keyed by lti_message_hint."""

    hint: str
    user_id: str
    roles: list[str]
    course_id: str
    resource_link_id: str | None
    message_type: str = "LtiResourceLinkRequest"
    target_link_uri: str = ""
    claims: dict = field(default_factory=dict)        # merged over the built claims
    drop_claims: tuple = ()
    id_token: str | None = None                       # replaces the signed token entirely
    storage_target: str | None = None                 # lti_storage_target, e.g. "_parent"
    return_url: str = ""
    created_at: float = field(default_factory=time.time)
    # Filled by the auth endpoint when it answers:
    sent_id_token: str | None = None
    sent_state: str | None = None
    sent_claims: dict | None = None
    used: bool = False


@dataclass
class AccessToken:
    token: str
    client_id: str
    scopes: frozenset[str]
    expires_at: float


@dataclass
class Failure:
    status: int = 503
    mode: str = "status"      # "status" | "timeout" | "slow" (held `delay` s, then served)
    delay: float = 0.0
    services: tuple[str, ...] = ("ags", "nrps")
    match: str | None = None  # only requests whose "METHOD /path" contains this


class PlatformState:
    """Everything the sandbox platform holds. Public methods take the lock."""

    def __init__(self, *, issuer: str = "", tool: ToolRegistration, guid: str | None = None,
                 page_sizes: dict | None = None, token_lifetime: int = 3600, product_family: str = ""):
        self.lock = threading.RLock()
        self.issuer = issuer.rstrip("/")
        self.tool = tool
        self.guid = guid or "sandbox-" + secrets.token_hex(6)
        self.page_sizes = {"lineitems": 3, "results": 3, "members": 2, **(page_sizes or {})}
        self.token_lifetime = token_lifetime
        self.courses: dict[str, Course] = {}
        self.line_items: dict[int, dict] = {}          # id -> {course_id, data}
        self.results: dict[tuple[int, str], dict] = {}  # (line item, user) -> latest score
        self.score_log: dict[int, list[dict]] = {}     # line item -> every accepted score
        # Which LMS the sandbox plays: "" (its own, lenient rules), "canvas" or "moodle" (their
        # rules for scores, `sandbox.lms_rules`; launches and registration name the family).
        self.product_family = product_family
        self.attempts: dict[tuple[int, str], int] = {}  # Canvas: (line item, user) -> submission attempts
        self.max_attempts: int | None = None            # Canvas: the assignment's allowed attempts
        self.launches: dict[str, LaunchSpec] = {}
        self.tokens: dict[str, AccessToken] = {}
        self.used_jtis: set[str] = set()
        self.used_dl_nonces: set[str] = set()
        self.token_requests = 0
        self.service_requests: list[tuple[str, str, str]] = []   # (service, method, path)
        self.failures: list[Failure] = []
        self.tool_jwks_cache: dict | None = None
        self.registration_tokens: set[str] = set()     # LTI Dynamic Registration, single use
        self.registrations: list[dict] = []
        # Canvas's dynamic registration answers no deployment_id (its deployment is made when the
        # admin installs the key); False makes the sandbox answer like Canvas.
        self.registration_answers_deployment = True
        # Origins (the same server under other names) for the login, token and key set URLs and
        # for the registration endpoint; "" keeps them on the issuer's, as Moodle does. Canvas
        # cloud serves the first three from sso.canvaslms.com and names the school's own host for
        # the last (canvas-lms SecurityController#openid_configuration).
        self.service_origin = ""
        self.registration_origin = ""
        self.last_id = 0

    # --- URLs (the issuer is only known once the server has its port) ---------------------
    def url(self, path: str) -> str:
        return self.issuer + path

    def service_url(self, path: str) -> str:
        """A login, token or key set URL: on `service_origin` when it is set."""
        return (self.service_origin or self.issuer) + path

    @property
    def auth_url(self) -> str:
        return self.service_url("/auth")

    @property
    def token_url(self) -> str:
        return self.service_url("/token")

    @property
    def jwks_url(self) -> str:
        return self.service_url("/jwks")

    @property
    def registration_url(self) -> str:
        return (self.registration_origin or self.issuer) + "/registration"

    def lineitems_url(self, course_id: str) -> str:
        return self.url(f"/api/lti/courses/{course_id}/lineitems")

    def lineitem_url(self, course_id: str, item_id: int) -> str:
        return f"{self.lineitems_url(course_id)}/{item_id}"

    def memberships_url(self, course_id: str) -> str:
        return self.url(f"/api/lti/courses/{course_id}/memberships")

    @property
    def deep_link_return_url(self) -> str:
        return self.url("/deep_links/return")

    # --- courses and people -----------------------------------------------------------------
    def next_id(self) -> int:
        with self.lock:
            self.last_id += 1
            return self.last_id

    def course(self, course_id: str, *, title: str | None = None, label: str | None = None) -> Course:
        with self.lock:
            course = self.courses.get(course_id)
            if course is None:
                course = Course(id=course_id, title=title or f"Course {course_id}", label=label or course_id)
                self.courses[course_id] = course
            return course

    def add_member(self, course_id: str, user_id: str, role="Learner", *, name: str = "",
                   given_name: str = "", family_name: str = "", email: str = "",
                   status: str = "Active") -> Member:
        roles = role_uris(role)
        if not name:
            name = f"{given_name} {family_name}".strip() or user_id.replace("-", " ").title()
        parts = name.split(" ", 1)
        member = Member(user_id=user_id, roles=roles, name=name,
                        given_name=given_name or parts[0],
                        family_name=family_name or (parts[1] if len(parts) > 1 else ""),
                        email=email or f"{user_id}@sandbox.example", status=status)
        with self.lock:
            self.course(course_id).members[user_id] = member
        return member

    def resource_link(self, course_id: str, link_id: str, *, title: str | None = None,
                      line_item: dict | None = None, custom: dict | None = None,
                      url: str = "") -> ResourceLink:
        """Get or create a placement; `line_item` (scoreMaximum, label...) gives it a gradebook column."""
        with self.lock:
            course = self.course(course_id)
            link = course.resource_links.get(link_id)
            if link is None:
                link = ResourceLink(id=link_id, title=title or f"Gradeloop ({link_id})",
                                    url=url, custom=dict(custom or {}))
                course.resource_links[link_id] = link
            if line_item is not None and link.line_item_id is None:
                data = {"scoreMaximum": 100, "label": link.title, **line_item, "resourceLinkId": link_id}
                link.line_item_id = self.create_line_item(course_id, data, activity=True)["_num"]
            return link

    # --- gradebook --------------------------------------------------------------------------
    def create_line_item(self, course_id: str, data: dict, *, activity: bool = False) -> dict:
        """`activity`: the column of a course activity (made with the placement, as Moodle's
        activity grade item), not one the tool created through AGS."""
        with self.lock:
            num = self.next_id()
            self.line_items[num] = {"course_id": course_id, "data": dict(data), "_num": num, "activity": activity}
            self.score_log[num] = []
            return self.line_items[num]

    def line_item_json(self, num: int) -> dict:
        item = self.line_items[num]
        return {"id": self.lineitem_url(item["course_id"], num), **item["data"]}

    def course_line_items(self, course_id: str) -> list[dict]:
        with self.lock:
            return [self.line_item_json(n) for n, it in sorted(self.line_items.items())
                    if it["course_id"] == course_id]

    def resolve_line_item(self, ref) -> int:
        """A line item number from its id URL, its number, or a label."""
        if isinstance(ref, int):
            return ref
        ref = str(ref)
        for num, item in self.line_items.items():
            if ref in (self.lineitem_url(item["course_id"], num), str(num)) or ref.rstrip("/").endswith(f"/lineitems/{num}"):
                return num
        for num, item in self.line_items.items():
            if item["data"].get("label") == ref:
                return num
        raise KeyError(f"no line item {ref!r}")

    # --- access tokens and failures ---------------------------------------------------------
    def issue_token(self, client_id: str, scopes: set[str]) -> AccessToken:
        token = AccessToken(token=secrets.token_urlsafe(32), client_id=client_id,
                            scopes=frozenset(scopes), expires_at=time.time() + self.token_lifetime)
        with self.lock:
            self.tokens[token.token] = token
        return token

    def take_failure(self, service: str, request_line: str = "") -> Failure | None:
        with self.lock:
            for i, failure in enumerate(self.failures):
                if service in failure.services and (failure.match is None or failure.match in request_line):
                    return self.failures.pop(i)
        return None
