"""Pytest plugin: the real tool served over HTTP (`tool_server`) and the sandbox LTI 1.3
platform (`peer`) that launches it over real HTTP on loopback, like Moodle or Canvas would.

See docs/testing.md for the fixtures' contract. Both servers are threaded werkzeug servers in
background threads, so the tool can call the peer's token/AGS/NRPS endpoints while a test waits.
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass, field

import jwt
import pytest
import requests

from lti_app.sandbox.ags import item_results
from lti_app.sandbox.forms import Form, find_form
from lti_app.sandbox.keys import pooled_key
from lti_app.sandbox.oidc import DEEP_LINKING, RESOURCE_LINK, build_claims, initiation_params, start_launch
from lti_app.sandbox.platform import SandboxPlatform
from lti_app.sandbox.server import ServerThread
from lti_app.sandbox.state import Failure

DEFAULT_CLIENT_ID = "gradeloop-test-client"
DEFAULT_DEPLOYMENT_ID = "deployment-1"


@dataclass
class ToolServer:
    url: str
    app: object
    server: ServerThread


@dataclass
class LaunchResult:
    """`response`: the final response (from /lti/launch, after redirects unless
    follow_redirects=False); when the flow stopped early (the tool's login refused, the peer
    answered an error), `response` is that response and `id_token` is None."""

    response: requests.Response
    browser: requests.Session
    id_token: str | None = None
    state: str | None = None
    claims: dict | None = None
    login_response: requests.Response | None = None
    auth_response: requests.Response | None = None
    hint: str = ""
    history: list = field(default_factory=list)

    @property
    def reached_launch(self) -> bool:
        return self.id_token is not None


class Peer(SandboxPlatform):
    """The sandbox platform plus test helpers (see docs/testing.md)."""

    def __init__(self, tool_server: ToolServer, **kwargs):
        kwargs.setdefault("client_id", DEFAULT_CLIENT_ID)
        kwargs.setdefault("deployment_id", DEFAULT_DEPLOYMENT_ID)
        super().__init__(tool_server.url, ui=True, **kwargs)
        self.tool = tool_server

    # --- browsers and launches -----------------------------------------------------------
    @staticmethod
    def browser() -> requests.Session:
        session = requests.Session()
        session.headers["User-Agent"] = "gradeloop-test-browser/1.0"
        return session

    def _spec(self, role, user_id, course_id, resource_link_id, message_type, claims=None,
              drop_claims=(), id_token=None, storage_target=None):
        return start_launch(self.state, user_id=user_id, course_id=course_id, role=role,
                            resource_link_id=resource_link_id, message_type=message_type, claims=claims,
                            drop_claims=drop_claims, id_token=id_token, storage_target=storage_target)

    def launch(self, browser: requests.Session | None = None, *, role="Instructor", user_id: str = "teacher-1",
               course_id: str = "course-1", resource_link_id: str = "rl-1",
               message_type: str = RESOURCE_LINK, claims: dict | None = None, drop_claims=(),
               id_token: str | None = None, storage_target: str | None = None,
               login_method: str = "GET", follow_redirects: bool = True, timeout: float = 30) -> LaunchResult:
        """The whole browser round trip: tool /lti/login -> peer /auth -> POST id_token+state to
        the tool's redirect_uri, with the browser's cookies. Never raises for HTTP errors."""
        browser = browser or self.browser()
        spec = self._spec(role, user_id, course_id, resource_link_id, message_type, claims,
                          drop_claims, id_token, storage_target)
        params = initiation_params(self.state, spec)
        login_url = self.state.tool.login_url
        if login_method.upper() == "POST":
            login = browser.post(login_url, data=params, timeout=timeout)
        else:
            login = browser.get(login_url, params=params, timeout=timeout)
        auth = login
        if not auth.url.startswith(self.state.auth_url):
            # The tool may answer its login with a page whose form goes on to our auth endpoint.
            form = find_form(login.text, login.url) if login.ok else None
            if form is None or not form.action.startswith(self.state.auth_url):
                return LaunchResult(response=login, browser=browser, login_response=login, hint=spec.hint)
            auth = self.submit(form, browser, timeout=timeout)
        result = LaunchResult(response=auth, browser=browser, login_response=login, auth_response=auth,
                              hint=spec.hint)
        form = find_form(auth.text, auth.url, with_field="state")
        if not auth.ok or form is None:
            return result
        result.response = self.submit(form, browser, follow_redirects=follow_redirects, timeout=timeout)
        result.history = [login, auth, result.response]
        with self.state.lock:
            result.id_token, result.state, result.claims = spec.sent_id_token, spec.sent_state, spec.sent_claims
        return result

    def deep_link(self, browser: requests.Session | None = None, **kwargs) -> LaunchResult:
        """An LtiDeepLinkingRequest launch (teacher by default)."""
        kwargs.setdefault("resource_link_id", None)
        return self.launch(browser, message_type=DEEP_LINKING, **kwargs)

    @staticmethod
    def submit(form: Form, browser: requests.Session, *, follow_redirects: bool = True,
               timeout: float = 30) -> requests.Response:
        if form.method == "POST":
            return browser.post(form.action, data=form.fields, allow_redirects=follow_redirects, timeout=timeout)
        return browser.get(form.action, params=form.fields, allow_redirects=follow_redirects, timeout=timeout)

    def submit_form(self, response: requests.Response, browser: requests.Session, *,
                    with_field: str | None = None, **kwargs) -> requests.Response:
        """Do what a page's auto-submitting form would do (e.g. the tool's deep-link response
        form that posts `JWT` back to the peer)."""
        form = find_form(response.text, response.url, with_field=with_field)
        if form is None:
            raise AssertionError(f"no form{' with ' + with_field if with_field else ''} in {response.url}")
        return self.submit(form, browser, **kwargs)

    def dynamic_registration(self, browser: requests.Session | None = None, *,
                             registration_url: str | None = None, timeout: float = 30) -> requests.Response:
        """Open the tool's LTI Dynamic Registration URL as an LMS admin would (with this
        platform's openid_configuration and a one-time registration_token). On success the
        peer's client_id/deployment_id become the new registration's."""
        from lti_app.sandbox.registration import issue_registration_token, openid_configuration_url

        browser = browser or self.browser()
        url = registration_url or self.tool.url + "/lti/register"
        return browser.get(url, timeout=timeout, params={
            "openid_configuration": openid_configuration_url(self.state),
            "registration_token": issue_registration_token(self.state)})

    # --- tokens --------------------------------------------------------------------------
    def sign(self, claims: dict, *, kid: str | None = None, alg: str = "RS256", key=None,
             headers: dict | None = None) -> str:
        return self.keys.sign(claims, kid=kid, alg=alg, key=key, headers=headers)

    def base_claims(self, *, role="Instructor", user_id: str = "teacher-1", course_id: str = "course-1",
                    resource_link_id: str | None = "rl-1", message_type: str = RESOURCE_LINK,
                    nonce: str = "test-nonce") -> dict:
        spec = self._spec(role, user_id, course_id, resource_link_id, message_type)
        return build_claims(self.state, spec, nonce)

    def rotate_keys(self, *, keep_old_seconds: float | None = None) -> str:
        """New current key (new kid); the old one stays published for `keep_old_seconds`."""
        return self.keys.rotate(keep_old_seconds=keep_old_seconds)

    @property
    def kid(self) -> str:
        return self.keys.current.kid

    @staticmethod
    def decode_unverified(token: str) -> dict:
        return jwt.decode(token, options={"verify_signature": False})

    # --- roster, placements, gradebook ------------------------------------------------------
    def add_member(self, course_id: str, user_id: str, role="Learner", **kwargs):
        return self.state.add_member(course_id, user_id, role, **kwargs)

    def remove_member(self, course_id: str, user_id: str) -> None:
        """The user leaves the course: gone from NRPS, and scores for them get 400."""
        with self.state.lock:
            self.state.course(course_id).members.pop(user_id, None)

    def add_resource_link(self, course_id: str, resource_link_id: str, *, title: str | None = None,
                          line_item: dict | None = None, custom: dict | None = None):
        """A placement; `line_item={'scoreMaximum': 6, 'label': ...}` makes the launch carry its
        AGS `lineitem` URL (like an LMS assignment created before the tool is launched)."""
        return self.state.resource_link(course_id, resource_link_id, title=title, line_item=line_item,
                                        custom=custom)

    def line_items(self, course_id: str = "course-1") -> list[dict]:
        return self.state.course_line_items(course_id)

    def scores(self, line_item) -> list[dict]:
        """Every score the platform accepted for a line item (id URL, number or label), in order."""
        with self.state.lock:
            return [dict(s) for s in self.state.score_log[self.state.resolve_line_item(line_item)]]

    def results(self, line_item, user_id: str | None = None) -> list[dict]:
        return item_results(self.state, self.state.resolve_line_item(line_item), user_id)

    def deep_link_items(self, course_id: str = "course-1") -> list[dict]:
        with self.state.lock:
            return [dict(i) for i in self.state.course(course_id).content_items]

    # --- failures and counters -------------------------------------------------------------
    def fail_next(self, n: int = 1, status: int = 503, *, mode: str = "status", delay: float = 0.0,
                  services=("ags", "nrps"), match: str | None = None) -> None:
        """The next `n` AGS/NRPS calls fail: HTTP `status`, or mode='timeout' (held `delay`
        seconds, then 504), or are only slow: mode='slow' (held `delay` seconds, then answered
        as usual). services may include 'token'; `match` limits it to requests whose
        "METHOD /path" contains it (e.g. "POST", "/scores")."""
        if mode not in ("status", "timeout", "slow"):
            raise ValueError("mode is 'status', 'timeout' or 'slow'")
        with self.state.lock:
            self.state.failures.extend(Failure(status=status, mode=mode, delay=delay,
                                               services=tuple(services), match=match) for _ in range(n))

    def expire_tokens(self) -> None:
        """Every access token issued so far expires now (the next AGS/NRPS call gets 401)."""
        with self.state.lock:
            for token in self.state.tokens.values():
                token.expires_at = 0

    @property
    def token_requests(self) -> int:
        return self.state.token_requests

    def service_calls(self, service: str | None = None) -> list[tuple[str, str, str]]:
        """(service, method, path) of every token/AGS/NRPS request received."""
        with self.state.lock:
            return [c for c in self.state.service_requests if service in (None, c[0])]


@pytest.fixture(scope="session", autouse=False)
def _peer_keys():
    pooled_key(0)


@pytest.fixture
def make_tool_server(make_app):
    """Factory: `make_tool_server(**make_app_overrides) -> ToolServer`."""
    servers: list[ServerThread] = []

    def _make(**overrides) -> ToolServer:
        app = make_app(**overrides)
        server = ServerThread(app, "127.0.0.1", 0, url_host="localhost")
        app.config["GRADELOOP_PUBLIC_URL"] = server.url
        server.start()
        servers.append(server)
        return ToolServer(url=server.url, app=app, server=server)

    yield _make
    for server in servers:
        server.stop()


@pytest.fixture
def tool_server(make_tool_server) -> ToolServer:
    return make_tool_server()


@pytest.fixture
def make_peer(tool_server, _peer_keys):
    """Factory: `make_peer(tool_server=None, client_id=..., deployment_id=..., page_sizes=...)`."""
    peers: list[Peer] = []

    def _make(server: ToolServer | None = None, *, register: bool = True, **kwargs) -> Peer:
        server = server or tool_server
        peer = Peer(server, **kwargs).start()
        peers.append(peer)
        if register:
            peer.register_in_tool(server.app)
        return peer

    yield _make
    for peer in peers:
        peer.stop()


@pytest.fixture
def peer(make_peer) -> Peer:
    return make_peer()


@contextlib.contextmanager
def bench_tool_and_peer():
    """For benchmarks outside pytest: the real tool on a scratch SQLite database served over
    HTTP, and a started peer registered in it. Yields (app, peer); stops both afterwards."""
    import tempfile

    from lti_app import create_app
    from lti_app.extensions import db
    from lti_app.sandbox.server import ServerThread

    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(env="test", data_dir=tmp, database_url=f"sqlite:///{tmp}/bench.db",
                         broker_url="memory://", secret_key="bench")
        with app.app_context():
            db.create_all()
        server = ServerThread(app, "127.0.0.1", 0, url_host="localhost").start()
        app.config["GRADELOOP_PUBLIC_URL"] = server.url
        peer = Peer(ToolServer(url=server.url, app=app, server=server)).start()
        try:
            peer.register_in_tool(app)
            yield app, peer
        finally:
            peer.stop()
            server.stop()
