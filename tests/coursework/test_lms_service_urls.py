"""Service URLs the platform names (AGS and NRPS URLs from launch claims, `next` pages from
answers) are called only on public addresses, on the hosts the platform registered, or on listed
origins; refused ones are never contacted. (An answer's text kept from teachers: test_lms_failures.)"""
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from lti_app.extensions import db
from lti_app.lms import ags, nrps
from lti_app.lms.client import LmsClient
from lti_app.lms.errors import LmsPermanentError
from lti_app.lms.service_urls import checked_addresses
from lti_app.lti import registration_policy
from lti_app.models import Assignment, Course, Platform
from tests.coursework.helpers import build_world

SECRET = b'{"message": "INTERNAL-ONLY: admin api, db password=hunter2"}'


class _Service(HTTPServer):
    """A local HTTP service that counts the requests it gets and answers `status` with `body`
    (and a `Link` header when `next_url` is set)."""

    def __init__(self, status=403, body=SECRET, next_url=None):
        self.status, self.body, self.next_url, self.requests = status, body, next_url, []

        class Handler(BaseHTTPRequestHandler):
            def do_GET(handler):
                self.requests.append(handler.path)
                handler.send_response(self.status)
                handler.send_header("Content-Type", "application/json")
                handler.send_header("Content-Length", str(len(self.body)))
                if self.next_url:
                    handler.send_header("Link", f'<{self.next_url}>; rel="next"')
                handler.end_headers()
                handler.wfile.write(self.body)

            do_POST = do_GET

            def log_message(handler, *args):
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def port(self) -> int:
        return self.server_address[1]


@pytest.fixture
def service():
    made = []

    def _make(**kwargs) -> _Service:
        made.append(_Service(**kwargs))
        return made[-1]

    yield _make
    for server in made:
        server.shutdown()
        server.server_close()


@pytest.fixture
def no_token(monkeypatch):
    """The platform's token is not what these tests are about (`lms.example` has no token endpoint)."""
    monkeypatch.setattr(LmsClient, "access_token", lambda self, scopes, fresh=False: "platform-token")


def _sync_with_lineitems_url(app, world, url) -> str | None:
    from lti_app.coursework import lms_sync

    with app.app_context():
        db.session.get(Course, world.course_a).ags_lineitems_url = url   # as provisioning stores the claim
        db.session.get(Assignment, world.assignment_a).lineitem_url = None
        db.session.commit()
        return lms_sync.sync_line_item_now(world.assignment_a)


def test_a_claimed_loopback_service_url_is_not_contacted(app, service, no_token):
    """The reviewer's case: a platform registered on public hosts (`lms.example`) names a loopback
    service in its AGS claim. Before: Gradeloop called it and showed its 403 answer (the secret)."""
    internal = service()
    problem = _sync_with_lineitems_url(app, build_world(app), f"http://127.0.0.1:{internal.port}/internal/admin")
    assert internal.requests == []
    assert "Gradeloop will not contact" in problem and "loopback address" in problem
    assert "hunter2" not in problem


@pytest.mark.parametrize("url, why", [
    ("http://169.254.169.254/latest/meta-data/", "link-local address"),     # cloud metadata
    ("http://10.1.2.3/lineitems", "private-network address"),
    ("http://[::ffff:127.0.0.1]:8080/lineitems", "loopback address"),
    ("http://0.0.0.0:8080/lineitems", "reserved address"),
    ("file:///etc/passwd", "not an http(s) address"),
    ("gopher://lms.example/lineitems", "not an http(s) address"),
    ("http://lms.example:99999/lineitems", "not a valid address"),
])
def test_service_urls_the_rule_refuses(app, url, why):
    with app.app_context(), pytest.raises(LmsPermanentError) as refused:
        checked_addresses(url, frozenset({"lms.example"}), "the line item list")
    assert why in str(refused.value) and "the line item list" in str(refused.value)


def test_service_urls_the_rule_allows(app, monkeypatch):
    """Public addresses (Canvas cloud: services on the school's host, tokens on another); a
    platform's own registered host on a private network; a listed origin."""
    names = {"school.instructure.com": ["93.184.215.14"], "moodle.school.lan": ["10.0.0.5"],
             "other.school.lan": ["10.0.0.6"]}
    monkeypatch.setattr(registration_policy, "resolve", lambda host, port: names[host])
    canvas = frozenset({"canvas.instructure.com", "sso.canvaslms.com"})
    moodle = frozenset({"moodle.school.lan"})
    with app.app_context():
        assert checked_addresses("https://school.instructure.com/api/lti/courses/1/line_items", canvas, "x") == \
            ["93.184.215.14"]
        assert checked_addresses("https://moodle.school.lan/mod/lti/services.php/2/lineitems", moodle, "x") == \
            ["10.0.0.5"]
        with pytest.raises(LmsPermanentError):   # another private host than the one registered
            checked_addresses("https://other.school.lan/lineitems", moodle, "x")
        app.config["GRADELOOP_REGISTRATION_ORIGINS"] = ["https://other.school.lan"]
        assert checked_addresses("https://other.school.lan/lineitems", moodle, "x") == ["10.0.0.6"]


def test_a_next_page_on_another_internal_address_is_not_followed(app, service, no_token):
    """The first page is on a listed origin; its `Link: rel="next"` names a loopback service under
    another name: that page is refused before it is requested."""
    internal = service(status=200, body=b'{"members": []}')
    lms = service(status=200, body=b'{"members": [{"user_id": "u1", "roles": ["Learner"]}]}',
                  next_url=f"http://localhost:{internal.port}/internal/admin")
    app.config["GRADELOOP_REGISTRATION_ORIGINS"] = [f"http://127.0.0.1:{lms.port}"]
    world = build_world(app)
    with app.app_context():
        client = LmsClient.for_platform(db.session.get(Platform, world.platform))
        with pytest.raises(LmsPermanentError, match="will not contact: it is on a loopback address"):
            nrps.memberships(client, f"http://127.0.0.1:{lms.port}/memberships")
    assert lms.requests == ["/memberships"] and internal.requests == []


def _line_items_of_a_name(app, service, monkeypatch, name: str, addresses: list[str]):
    """The line items of an LMS whose host `name` resolves to `addresses` (through the policy's
    resolver only); returns the local service that answers on 127.0.0.1."""
    lms = service(status=200, body=b"[]")
    real = registration_policy.resolve
    monkeypatch.setattr(registration_policy, "resolve",
                        lambda host, port: addresses if host == name else real(host, port))
    app.config["GRADELOOP_REGISTRATION_ORIGINS"] = [f"http://{name}:{lms.port}"]
    world = build_world(app)
    with app.app_context():
        client = LmsClient.for_platform(db.session.get(Platform, world.platform))
        assert ags.find_line_items(client, f"http://{name}:{lms.port}/lineitems") == []
    return lms


def test_the_call_goes_to_the_address_that_was_checked(app, service, no_token, monkeypatch):
    """No second DNS lookup between the check and the call (DNS rebinding): `lms.pinned.test`
    resolves only through the policy's resolver, so the call can only reach the checked address."""
    lms = _line_items_of_a_name(app, service, monkeypatch, "lms.pinned.test", ["127.0.0.1"])
    assert lms.requests == ["/lineitems"]


def test_an_address_that_cannot_be_connected_to_gives_way_to_the_next(app, service, no_token, monkeypatch):
    """An LMS name with a dead address first (a broken IPv6 route, a node down behind the name):
    the call goes to its next checked address, as a plain connection would. The local service
    listens on 127.0.0.1 only, so 127.0.0.2 refuses the connection."""
    lms = _line_items_of_a_name(app, service, monkeypatch, "lms.twice.test", ["127.0.0.2", "127.0.0.1"])
    assert lms.requests == ["/lineitems"]


def test_which_answers_may_be_quoted_to_the_teacher(app, monkeypatch):
    """A public address, or an origin the administrator listed; not another private address, and
    not through an environment proxy (it resolves the name again: what answered is not known)."""
    from lti_app.lms.service_urls import answer_may_be_shown

    monkeypatch.delenv("HTTPS_PROXY", raising=False)
    monkeypatch.delenv("https_proxy", raising=False)
    url = "https://school.instructure.com/api/lti/courses/1/line_items"
    with app.app_context():
        assert answer_may_be_shown(url, ["93.184.215.14"])
        assert not answer_may_be_shown("https://moodle.school.lan/scores", ["10.0.0.5"])
        app.config["GRADELOOP_REGISTRATION_ORIGINS"] = ["https://moodle.school.lan"]
        assert answer_may_be_shown("https://moodle.school.lan/scores", ["10.0.0.5"])
        monkeypatch.setenv("HTTPS_PROXY", "http://proxy.school.lan:3128")
        assert not answer_may_be_shown(url, ["93.184.215.14"])
