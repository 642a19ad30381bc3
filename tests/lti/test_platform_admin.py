"""`gradeloop platform ...`: add (only what is given changes; issuer and deployment checks),
list, remove-deployment, disable/enable, remove."""
from __future__ import annotations

import pytest

from lti_app.cli import main
from lti_app.extensions import db
from lti_app.lti import framing, housekeeping
from lti_app.models import Course, Deployment, Platform
from lti_app.platforms import upsert_platform
from tests.lti.conftest import assert_refused

ISS = "https://lms.school.example"
URLS = ["--auth-login-url", ISS + "/auth", "--auth-token-url", ISS + "/token", "--key-set-url", ISS + "/jwks"]
DEPLOYMENT = "https://purl.imsglobal.org/spec/lti/claim/deployment_id"


def cli(app, *args):
    return app.test_cli_runner().invoke(main, ["platform", *args])


def platform_row(app, issuer=ISS, client_id="c1") -> Platform:
    return db.session.scalar(db.select(Platform).filter_by(issuer=issuer, client_id=client_id))


def test_add_again_changes_only_what_is_given(app):
    """Re-running `platform add` for a new deployment must not erase what dynamic registration
    stored (the token audience, the product family, the URLs)."""
    with app.app_context():
        upsert_platform(issuer=ISS, client_id="c1", deployment_ids=["d1"], auth_login_url=ISS + "/auth",
                        auth_token_url=ISS + "/token", key_set_url=ISS + "/jwks",
                        auth_audience=ISS + "/oauth2", product_family="canvas")
    out = cli(app, "add", "--issuer", ISS, "--client-id", "c1", "--deployment-id", "d2")
    assert out.exit_code == 0, out.output
    out = cli(app, "add", "--issuer", ISS, "--client-id", "c1", "--deployment-id", "d2", *URLS[:4],
              "--key-set-url", ISS + "/jwks")
    assert out.exit_code == 0, out.output
    with app.app_context():
        platform = platform_row(app)
        assert platform.auth_audience == ISS + "/oauth2"
        assert platform.product_family == "canvas"
        assert (platform.auth_login_url, platform.key_set_url) == (ISS + "/auth", ISS + "/jwks")
        assert sorted(d.deployment_id for d in platform.deployments) == ["d1", "d2"]
    assert cli(app, "add", "--issuer", ISS, "--client-id", "c1", "--auth-audience", ISS + "/aud2").exit_code == 0
    with app.app_context():
        assert platform_row(app).auth_audience == ISS + "/aud2"


def test_a_new_platform_needs_urls_and_a_deployment(app):
    out = cli(app, "add", "--issuer", ISS, "--client-id", "c1", *URLS)
    assert out.exit_code == 1 and "needs --deployment-id" in out.output
    out = cli(app, "add", "--issuer", ISS, "--client-id", "c1", "--deployment-id", "d1", *URLS[:4])
    assert out.exit_code == 1 and "key set URL" in out.output
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Platform)) == 0


@pytest.mark.parametrize("issuer, deployment, words", [
    ("http://lms.school.example", "d1", "must be an https URL"),
    ("lms.school.example", "d1", "must be an https URL"),
    ("https://lms.school.example?x=1", "d1", "query"),
    (ISS + "/", "d1", f"registered issuer '{ISS}'"),
    ("HTTPS://LMS.School.Example", "d1", f"registered issuer '{ISS}'"),
    (ISS, "", "must not be empty"),
    (ISS, "  ", "must not be empty"),
    (ISS, "d1 ", "white space"),
])
def test_add_refuses_issuers_and_deployments_no_launch_would_match(app, issuer, deployment, words):
    assert cli(app, "add", "--issuer", ISS, "--client-id", "c0", "--deployment-id", "d0", *URLS).exit_code == 0
    out = cli(app, "add", "--issuer", issuer, "--client-id", "c1", "--deployment-id", deployment, *URLS)
    assert out.exit_code == 1 and words in out.output, out.output
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Platform)) == 1
        assert db.session.scalar(db.select(db.func.count()).select_from(Deployment)) == 1


@pytest.mark.parametrize("url", [ISS + ":99999/auth", ISS + ":abc/auth", "https://[::1/auth"])
def test_add_refuses_an_endpoint_whose_port_or_host_cannot_be_read(app, url):
    out = cli(app, "add", "--issuer", ISS, "--client-id", "c1", "--deployment-id", "d1",
              "--auth-login-url", url, *URLS[2:])
    assert out.exit_code == 1 and "valid host and port" in out.output, out.output
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Platform)) == 0


def test_add_accepts_http_on_localhost_and_another_client_of_the_same_issuer(app):
    for issuer, client in (("http://localhost:8080", "c1"), ("http://127.0.0.1:8100", "c1"), (ISS, "c1"), (ISS, "c2")):
        out = cli(app, "add", "--issuer", issuer, "--client-id", client, "--deployment-id", "d1", *URLS)
        assert out.exit_code == 0, out.output


def test_list_shows_endpoints_deployments_and_state(app):
    assert cli(app, "list").output.strip() == "no platforms registered"
    with app.app_context():
        upsert_platform(issuer=ISS, client_id="c1", deployment_ids=["d1", "d2"], auth_login_url=ISS + "/auth",
                        auth_token_url=ISS + "/token", key_set_url=ISS + "/jwks", auth_audience=ISS + "/aud",
                        name="School Canvas")
        upsert_platform(issuer="https://canvas.instructure.com", client_id="10000000000001", deployment_ids=[],
                        auth_login_url="https://sso.canvaslms.com/api/lti/authorize_redirect",
                        auth_token_url="https://sso.canvaslms.com/login/oauth2/token",
                        key_set_url="https://sso.canvaslms.com/api/lti/security/jwks")
    out = cli(app, "list").output
    for text in ("School Canvas", "enabled", ISS + "/auth", ISS + "/token (audience " + ISS + "/aud)", ISS + "/jwks",
                 "d1, d2", "client id:       10000000000001", "none yet", "keys cached:     none"):
        assert text in out, out


def test_disable_refuses_logins_and_launches_and_keeps_the_courses(peer, tool_server, monkeypatch):
    app = tool_server.app
    before = peer.launch()
    assert before.response.status_code == 200
    with app.app_context():
        platform_id = platform_row(app, peer.issuer, peer.client_id).id
        assert peer.issuer in framing.frame_ancestors()
    out = cli(app, "disable", str(platform_id))
    assert out.exit_code == 0 and "disabled" in out.output
    # A session opened before the LMS was disabled stops working at its next page.
    page = before.browser.get(before.response.url, timeout=30)
    assert page.status_code == 403 and "turned off for this LMS" in page.text
    assert "disabled since" in cli(app, "list").output
    result = peer.launch(user_id="student-1", role="Learner")
    assert not result.reached_launch
    assert_refused(result.response, "administrator disabled this LMS", status=403)
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Course)) == 1
        assert peer.issuer not in framing.frame_ancestors()
    assert cli(app, "enable", str(platform_id)).exit_code == 0
    assert peer.launch(user_id="student-1", role="Learner").response.status_code == 200

    # Disabled between the login and the launch: the launch is refused too.
    from lti_app.platforms import set_disabled

    monkeypatch.setattr(housekeeping, "after_login", lambda: set_disabled(platform_id, True))
    result = peer.launch(user_id="teacher-1")
    assert result.reached_launch
    assert_refused(result.response, "administrator disabled this LMS", status=403)


def test_remove_deployment(peer, tool_server):
    app = tool_server.app
    with app.app_context():
        platform_id = platform_row(app, peer.issuer, peer.client_id).id
    assert cli(app, "add", "--issuer", peer.issuer, "--client-id", peer.client_id,
               "--deployment-id", "dep-2").exit_code == 0
    assert peer.launch(claims={DEPLOYMENT: "dep-2"}).response.status_code == 200
    out = cli(app, "remove-deployment", str(platform_id), "dep-2")
    assert out.exit_code == 0, out.output
    assert_refused(peer.launch(user_id="t2", claims={DEPLOYMENT: "dep-2"}).response, "'dep-2' is not registered")
    out = cli(app, "remove-deployment", str(platform_id), "nope")
    assert out.exit_code == 1 and peer.deployment_id in out.output
    out = cli(app, "remove-deployment", str(platform_id), peer.deployment_id)   # the last one
    assert out.exit_code == 1 and f"gradeloop platform disable {platform_id}" in out.output
    assert peer.launch(user_id="t3").response.status_code == 200


def test_remove_only_a_platform_without_courses(peer, tool_server):
    app = tool_server.app
    assert peer.launch().response.status_code == 200
    assert cli(app, "add", "--issuer", "https://typo.example", "--client-id", "x", "--deployment-id", "d",
               *URLS).exit_code == 0
    with app.app_context():
        used = platform_row(app, peer.issuer, peer.client_id).id
        unused = platform_row(app, "https://typo.example", "x").id
    out = cli(app, "remove", str(used), "--yes")
    assert out.exit_code == 1 and "1 course(s)" in out.output and f"platform disable {used}" in out.output
    assert cli(app, "remove", str(unused)).exit_code == 1        # asks first; no answer: aborted
    out = cli(app, "remove", str(unused), "--yes")
    assert out.exit_code == 0, out.output
    with app.app_context():
        assert [p.id for p in db.session.scalars(db.select(Platform))] == [used]
        assert db.session.scalar(db.select(db.func.count()).select_from(Deployment)) == 1
    assert cli(app, "remove", "999", "--yes").exit_code == 1
