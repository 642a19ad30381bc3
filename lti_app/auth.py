"""The tool's own session, bound to one LTI launch (platform, course, user, role) and expiring.

Inside an LMS iframe the browser may refuse our cookie (third-party cookie blocking), so the
launch context travels two ways: the Flask session cookie, and a signed launch token (`lt`)
that pages add to their links and forms (`lurl()` in templates). Either is enough; both carry
the same signed, expiring context.

A session ends after GRADELOOP_SESSION_MINUTES without use: a page opened, a form sent, typing
(the page's keep-alive; polling JSON does not count). Use extends it, at most every
`RENEW_EVERY_S` (so the cookie is not rewritten on every click, and the end comes up to that much
early), up to GRADELOOP_SESSION_MAX_HOURS after the launch, when the person must open Gradeloop
from the LMS again (which also brings the LMS's current role for them). Without the cookie a
session rides the `lt` token, so a leaked token (a shared computer's history) lives as long as
someone uses it, up to that cap. Pages warn a few minutes before either end (`LaunchContext.timing`,
base.html), with a button that extends an idle session through the keep-alive.

The launch itself lands on a URL with a `start` token that works for `START_SECONDS` only. Its
GET is redirected at once: to the same URL with `lt` when the cookie did not come back, or, once
the browser has shown that it sends our cookie back for a launch, with only the launch's id
(`launch`), which is worthless without the cookie; links and forms then carry that id, and a GET
that arrived with `lt` is redirected the same way. So a URL copied from the address bar, kept in the
browser's history (a top-level "new window" launch on a shared computer), or written to a proxy's
log is not a working session. The cookie keeps the few latest launches of the same person by id,
so two tabs launched from two courses keep their own contexts; a launch by someone else replaces
them all. A token naming another person than every live launch in the cookie (a link copied out
of someone else's page) is refused, as is a session whose user row is newer than the session
(SQLite gives an erased person's id to the next new person): `require_launch`.
"""
from __future__ import annotations

import functools
import hmac
import time
import uuid
from dataclasses import asdict, dataclass, replace
from datetime import timezone
from hashlib import sha256
from urllib.parse import urlencode

from flask import abort, current_app, g, request, session, url_for
from itsdangerous import BadSignature, URLSafeTimedSerializer

from lti_app.extensions import db
from lti_app.models import Course, Platform, Role, User

SESSION_KEY = "gl_launch"          # the latest launch
LAUNCHES_KEY = "gl_launches"       # the person's recent launches, by launch id (one per tab)
MAX_LAUNCHES = 6
TOKEN_PARAM = "lt"
LAUNCH_PARAM = "launch"
START_PARAM = "start"
START_SECONDS = 60      # the landing URL after a launch (what a browser's history keeps) expires
RENEW_EVERY_S = 300     # a session in use is extended at most this often
TOKEN_HEADER = "X-Gradeloop-Launch"
WARN_BEFORE_END_S = 300   # pages warn this long before the session ends (`LaunchContext.timing`)


@dataclass(frozen=True)
class LaunchContext:
    launch_id: str
    platform_id: int
    course_id: int
    user_id: int
    role: str
    resource_link_id: int | None = None   # ResourceLink.id (database id), if launched from one
    expires_at: float = 0.0
    started_at: float = 0.0   # the launch's time (0 in sessions made before sessions slid)

    @property
    def role_enum(self) -> Role:
        return Role(self.role)

    @property
    def can_grade(self) -> bool:
        return self.role_enum.can_grade

    @property
    def latest_end(self) -> float:
        """When the session ends however much it is used: `longest_seconds` after the launch."""
        return (self.started_at or self.expires_at - idle_seconds()) + longest_seconds()

    @property
    def timing(self) -> dict:
        """For the page's warning before the session ends (base.html, WCAG 2.2.1): `left`, seconds
        until it ends unless used (on the page's clock: the server's may differ); `ends` and `latest`,
        that end and `latest_end` on the server's clock, as the keep-alive answers them; `warn`, how
        long before the end the page warns: 5 minutes, or half the idle time if that is shorter, so
        that the warning's "Stay signed in" is always use that `renew` counts."""
        return {"left": round(self.expires_at - time.time(), 1), "ends": self.expires_at,
                "latest": self.latest_end, "warn": min(WARN_BEFORE_END_S, idle_seconds() / 2)}


def _serializer(salt: str = "gradeloop-launch") -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=salt)


def start_session(platform_id: int, course_id: int, user_id: int, role: Role,
                  resource_link_id: int | None = None) -> LaunchContext:
    """Create the tool session for a verified launch; returns the context (also stored in `g`)."""
    now = time.time()
    ctx = LaunchContext(
        launch_id=uuid.uuid4().hex, platform_id=platform_id, course_id=course_id, user_id=user_id,
        role=Role(role).value, resource_link_id=resource_link_id, expires_at=now + idle_seconds(), started_at=now)
    same_person = {k: v for k, v in _cookie_launches().items()
                   if (v["platform_id"], v["user_id"]) == (platform_id, user_id) and _from_dict(v)}
    recent = dict(list(same_person.items())[-(MAX_LAUNCHES - 1):])
    session.clear()
    session[LAUNCHES_KEY] = {**recent, ctx.launch_id: asdict(ctx)}
    session[SESSION_KEY] = asdict(ctx)
    session.permanent = True
    g.launch = ctx
    return ctx


def idle_seconds() -> float:
    return current_app.config.get("GRADELOOP_SESSION_MINUTES", 120) * 60


def longest_seconds() -> float:
    """The longest a session can last: GRADELOOP_SESSION_MAX_HOURS, never below the idle time."""
    return max(current_app.config.get("GRADELOOP_SESSION_MAX_HOURS", 12) * 3600, idle_seconds())


def renew(ctx: LaunchContext) -> LaunchContext:
    """The launch in use, its end moved to the idle time from now when it was last moved at least
    `RENEW_EVERY_S` ago (half the idle time if that is shorter), never past `longest_seconds` after
    the launch. The cookie's copy is updated; tokens rendered from now on (`lt`) carry the new end."""
    now, idle = time.time(), idle_seconds()
    if ctx.expires_at - now > idle - min(RENEW_EVERY_S, idle / 2):
        return ctx
    started = ctx.started_at or ctx.expires_at - idle
    until = min(now + idle, ctx.latest_end)
    if until <= ctx.expires_at:
        return ctx
    ctx = replace(ctx, expires_at=until, started_at=started)
    launches = session.get(LAUNCHES_KEY)
    if isinstance(launches, dict) and ctx.launch_id in launches:
        session[LAUNCHES_KEY] = {**launches, ctx.launch_id: asdict(ctx)}
    latest = session.get(SESSION_KEY)
    if isinstance(latest, dict) and latest.get("launch_id") == ctx.launch_id:
        session[SESSION_KEY] = asdict(ctx)
    g.launch = ctx
    return ctx


def _cookie_launches() -> dict[str, dict]:
    launches = dict(session.get(LAUNCHES_KEY) or {})
    latest = session.get(SESSION_KEY)
    if isinstance(latest, dict) and latest.get("launch_id"):
        launches.setdefault(latest["launch_id"], latest)
    return launches


def cookie_holds(ctx: LaunchContext | None) -> bool:
    """Did this request's cookie carry the launch `ctx`? (The browser keeps our cookie.)"""
    return ctx is not None and ctx.launch_id in _cookie_launches()


def launch_token(ctx: LaunchContext | None = None) -> str:
    ctx = ctx or current_launch()
    return _serializer().dumps(asdict(ctx)) if ctx else ""


def token_platform(raw: str) -> int | None:
    """The platform id a launch token (`lt`) names, even when its launch has ended (the session-
    ended page names that platform's LMS); None when the token is not ours."""
    try:
        return int(_serializer().loads(raw)["platform_id"])
    except (BadSignature, KeyError, TypeError, ValueError):
        return None


def start_token(ctx: LaunchContext) -> str:
    """The token of the launch's landing URL (`start`): good for `START_SECONDS`, GET only."""
    return _serializer("gradeloop-launch-start").dumps(asdict(ctx))


def _from_start_token() -> LaunchContext | None:
    raw = request.args.get(START_PARAM) if request.method == "GET" else None
    if not raw:
        return None
    try:
        return _from_dict(_serializer("gradeloop-launch-start").loads(raw, max_age=START_SECONDS))
    except BadSignature:   # forged or expired (SignatureExpired is a BadSignature)
        return None


def _from_dict(data: dict | None) -> LaunchContext | None:
    if not data or not isinstance(data, dict):
        return None
    try:   # fields a later release added are ignored, so a rolling upgrade keeps sessions
        ctx = LaunchContext(**{k: v for k, v in data.items() if k in LaunchContext.__dataclass_fields__})
    except TypeError:
        return None
    return ctx if ctx.expires_at > time.time() else None


def _from_tokens() -> LaunchContext | None:
    """The live launch among the request's `lt` tokens (URL, form, header), the one ending last:
    a form's action keeps the token its page was drawn with, while the page's keep-alive renewed
    the one in the form's fields (base.html)."""
    tokens = request.args.getlist(TOKEN_PARAM) + request.form.getlist(TOKEN_PARAM)
    if request.headers.get(TOKEN_HEADER):
        tokens.append(request.headers[TOKEN_HEADER])
    live = []
    for token in tokens:
        try:
            ctx = _from_dict(_serializer().loads(token))
        except BadSignature:
            continue
        if ctx is not None:
            live.append(ctx)
    return max(live, key=lambda c: c.expires_at, default=None)


def current_launch() -> LaunchContext | None:
    """The launch context of this request: signed token first, then the session cookie."""
    if "launch" in g:
        return g.launch
    ctx = _from_tokens()
    if ctx is None:
        ctx = _from_start_token()
    if ctx is None and START_PARAM not in request.args:
        ref = request.values.get(LAUNCH_PARAM)
        # A launch named in the URL must be in the cookie: an unknown one is not "the latest".
        ctx = _from_dict(_cookie_launches().get(ref)) if ref else _from_dict(session.get(SESSION_KEY))
    g.launch = ctx
    return ctx


def require_launch(*roles: Role, grader: bool = False, renews: bool = True):
    """Decorator: 401 without a live launch, 403 when the role is not allowed. A request it lets
    through is use that keeps the session (`renew`), unless `renews=False`: a page polling
    in the background is not a person at work."""
    def decorate(view):
        @functools.wraps(view)
        def wrapped(*args, **kwargs):
            ctx = current_launch()
            # A signed session outlives an erased person (`gradeloop privacy erase-user`), an
            # LMS the administrator disabled (`gradeloop platform disable`) and a course copy that
            # `platform move-courses` retired (left on the old registration, its people moved):
            # its pages would act for a user row that is gone, an LMS that was turned off, or an
            # emptied course; nor may it act in a newer course given a forgotten one's id
            # (`gradeloop course delete --forget`). One indexed query.
            row = None if ctx is None else db.session.execute(
                db.select(User.created_at, User.name, Platform.disabled_at, Course.created_at.label("course_made"))
                .join(Platform, Platform.id == User.platform_id)
                .join(Course, Course.id == ctx.course_id)
                .where(User.id == ctx.user_id, Course.platform_id == User.platform_id)).first()
            if ctx is not None and _someone_elses_link(ctx):
                abort(403, description="This page was opened from a link that belongs to someone else's "
                                       "Gradeloop session, so it is not shown. Open Gradeloop from your own "
                                       "course in the LMS.")
            if row is None or any(_newer_than_session(made, ctx) for made in (row.created_at, row.course_made)):
                abort(401, description="Your session has ended or was never started. "
                                       "Open Gradeloop again from your course in the LMS.")
            if row.disabled_at is not None:
                abort(403, description="Gradeloop is turned off for this LMS: its administrator disabled it. "
                                       "Courses and grades are kept. Ask your LMS administrator.")
            if grader and not ctx.can_grade:
                abort(403, description="Only the course's teachers can open this page.")
            if roles and ctx.role_enum not in roles:
                abort(403, description="Your role in this course cannot open this page.")
            if renews:
                renew(ctx)
            # Only now: an error page drawn above must not name anyone (the row may be a newer
            # person's), nor query a database that just failed.
            g.person_name = row.name or ""
            return view(*args, **kwargs)
        return wrapped
    return decorate


def _someone_elses_link(ctx: LaunchContext) -> bool:
    """The request names its session by a token in the URL or form (`lt`) while this browser's
    cookie holds live launches of another person only: a link copied out of someone's page (a
    classmate's, sent in a chat). Opened here it would put its owner's session in this browser,
    and what this person then hands in would be stored as the owner's."""
    if cookie_holds(ctx):
        return False
    others = [c for c in map(_from_dict, _cookie_launches().values()) if c is not None]
    return bool(others) and all((c.platform_id, c.user_id) != (ctx.platform_id, ctx.user_id) for c in others)


def person_name() -> str:
    """The name of the person whose session this request is in, for the page's top bar (a page
    someone else's link opened shows whose it is); set by `require_launch` once the session passed."""
    return g.get("person_name", "")


# A launch provisions its user and starts its session in one request, on one clock; this only
# absorbs a clock step between the two.
CLOCK_SLACK_S = 5


def _newer_than_session(created_at, ctx: LaunchContext) -> bool:
    """A user row made after the session started is someone else's: SQLite gives the highest
    freed id to the next new row, so once `gradeloop privacy erase-user` deleted the person with the
    highest id, the next person to launch gets it, and the erased person's session would act as
    them. The same holds for a course row and `gradeloop course delete --forget`. The launch
    provisions its user and course before it starts the session."""
    if not ctx.started_at or created_at is None:
        return False
    if created_at.tzinfo is None:   # SQLite returns the stored UTC time without its zone
        created_at = created_at.replace(tzinfo=timezone.utc)
    return created_at.timestamp() > ctx.started_at + CLOCK_SLACK_S


def csrf_token() -> str:
    """Per-launch anti-forgery token, embedded in every form as `csrf_token`."""
    ctx = current_launch()
    if ctx is None:
        return ""
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"csrf:{ctx.launch_id}".encode(), sha256).hexdigest()


def csrf_valid(candidate: str | None) -> bool:
    expected = csrf_token()
    # Bytes: compare_digest raises on a str with non-ASCII characters (a 500 for a forged form).
    return bool(expected and candidate and hmac.compare_digest(expected.encode(), candidate.encode()))


def launch_field() -> tuple[str, str]:
    """(name, value) that names this launch in a link or form: the launch id when the cookie
    carries it, else the signed token (pages must work without third-party cookies)."""
    ctx = current_launch()
    if ctx is None:
        return TOKEN_PARAM, ""
    return (LAUNCH_PARAM, ctx.launch_id) if cookie_holds(ctx) else (TOKEN_PARAM, launch_token(ctx))


def lurl(endpoint: str, **values) -> str:
    """`url_for` that names the launch (`launch_field`)."""
    name, value = launch_field()
    if value:
        values.setdefault(name, value)
    return url_for(endpoint, **values)


def url_without_token() -> str | None:
    """Where to redirect a GET that carries a token the address bar should not keep (the caller
    redirects): the launch's `start` URL, or `lt` although the cookie holds the launch. The same
    URL naming the launch by id when the cookie holds it, else (cookie refused) by `lt`."""
    if request.method != "GET" or not {TOKEN_PARAM, START_PARAM} & set(request.args):
        return None
    ctx = current_launch()
    if ctx is None:
        return None
    if cookie_holds(ctx):
        name, value = LAUNCH_PARAM, ctx.launch_id
    elif START_PARAM in request.args:
        name, value = TOKEN_PARAM, launch_token(ctx)
    else:
        return None
    args = [(k, v) for k, v in request.args.items(multi=True) if k not in (TOKEN_PARAM, LAUNCH_PARAM, START_PARAM)]
    return request.script_root + request.path + "?" + urlencode(args + [(name, value)])
