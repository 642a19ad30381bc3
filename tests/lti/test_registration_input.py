"""Dynamic registration with malformed input: URLs whose port or host cannot be read, and platform
configurations or answers with values of the wrong JSON type, too long for their column, or
holding a NUL. Each is a 400 in words; a configuration is refused before anything is POSTed to
the LMS (the LMS must not hold a registration Gradeloop never stored), an answer with a mention
that the LMS's side must be deleted."""
from __future__ import annotations

import pytest

from lti_app.extensions import db
from lti_app.platforms import upsert_platform
from tests.coursework.conftest import own_postgres  # noqa: F401  (fixture)
from tests.lti.conftest import assert_refused, page_text
from tests.lti.test_registration import (CONFIG_PATH, TOOL_CONFIG, FakeMoodle, allow, platform_count,
                                        register_at)

PLATFORM_CONFIG = "https://purl.imsglobal.org/spec/lti-platform-configuration"
AFTER_POST = "delete that registration in the LMS"
IN_CONFIG = "in the platform's OpenID configuration"
IN_ANSWER = "in the platform's answer to the registration"


def _register(server, **fake):
    """Register a FakeMoodle(**fake) on `server`: (page, paths the fake was sent)."""
    with FakeMoodle(**fake) as moodle:
        allow(server, moodle.url)
        page = register_at(server, moodle.url + CONFIG_PATH)
    return page, [r["path"] for r in moodle.requests]


@pytest.mark.parametrize("url", ["http://lms.example:99999/cfg", "http://lms.example:abc/cfg",
                                 "http://[::1/cfg", "http://lms.example:-1/cfg"])
def test_a_registration_url_with_an_unreadable_port_or_host_is_a_400(app, url):
    response = app.test_client().get("/lti/register", query_string={"openid_configuration": url})
    assert_refused(response, "is not a valid URL: its host or port cannot be read", status=400)


@pytest.mark.parametrize("changes, words", [
    ({PLATFORM_CONFIG: "moodle"}, f"lti-platform-configuration value {IN_CONFIG} is not a JSON object"),
    ({PLATFORM_CONFIG: {"product_family_code": 7}}, f"product_family_code {IN_CONFIG} is not text"),
    ({PLATFORM_CONFIG: {"product_family_code": "m" * 101}}, "longer than the 100 characters"),
    ({"authorization_server": 5}, f"authorization_server {IN_CONFIG} is not text"),
    ({"authorization_server": "aud\u0000"}, "NUL character"),
    ({"authorization_endpoint": ["https://lms.example/auth"]}, f"authorization_endpoint {IN_CONFIG} is not text"),
    ({"authorization_endpoint": "https://lms.example/auth?" + "a" * 1000}, "longer than the 1000 characters"),
    ({"authorization_endpoint": "https://lms.example:70000/auth"},
     f"authorization_endpoint {IN_CONFIG} is not a valid URL"),
    ({"jwks_uri": "http://127.0.0.1:99999/certs"}, f"jwks_uri {IN_CONFIG} is not a valid URL"),
    ({"token_endpoint": "http://[::1/token"}, f"token_endpoint {IN_CONFIG} is not a valid URL"),
    ({"registration_endpoint": "http://127.0.0.1:abc/register"},
     f"registration_endpoint {IN_CONFIG} is not a valid URL"),
    ({"registration_endpoint": 5}, f"registration_endpoint {IN_CONFIG} is not text"),
    ({"issuer": {"url": "x"}}, f"issuer {IN_CONFIG} is not text"),
    ({"jwks_uri": None}, "lacks jwks_uri"),
    ({"scopes_supported": 5}, "scopes_supported"),
    ({"scopes_supported": [{"scope": "openid"}]}, "not a list of text values"),
])
def test_an_odd_configuration_is_refused_before_anything_is_posted(tool_server, changes, words):
    page, sent = _register(tool_server, config_changes=changes)
    assert_refused(page, words, status=400)
    assert sent == [CONFIG_PATH]
    assert AFTER_POST not in page_text(page)
    assert platform_count(tool_server) == 0


def test_an_issuer_that_cannot_be_stored_is_refused_before_anything_is_posted(tool_server, monkeypatch):
    """Plain http is refused for an issuer off this machine (platforms.check_issuer): asked after
    the POST, the LMS kept a registration Gradeloop refused."""
    from lti_app.lti import registration_policy

    monkeypatch.setattr(registration_policy, "resolve", lambda host, port: ["127.0.0.1"])
    with FakeMoodle(base="http://lms.test:{port}") as moodle:
        moodle.base = moodle.base.format(port=moodle.server.port)
        allow(tool_server, moodle.base)
        page = register_at(tool_server, moodle.base + CONFIG_PATH)
    assert_refused(page, "must be an https URL", status=400)
    assert [r["path"] for r in moodle.requests] == [CONFIG_PATH]
    assert platform_count(tool_server) == 0


def test_an_issuer_like_a_registered_one_is_refused_before_anything_is_posted(tool_server):
    with FakeMoodle() as moodle:
        with tool_server.app.app_context():
            upsert_platform(issuer=moodle.url + "/", client_id="other", auth_login_url=moodle.url + "/a",
                            auth_token_url=moodle.url + "/t", key_set_url=moodle.url + "/k")
        allow(tool_server, moodle.url)
        page = register_at(tool_server, moodle.url + CONFIG_PATH)
    assert_refused(page, "only by a trailing slash or letter case", status=400)
    assert [r["path"] for r in moodle.requests] == [CONFIG_PATH]
    assert platform_count(tool_server) == 1


@pytest.mark.parametrize("changes, words", [
    ({"client_id": "c" * 256}, f"client_id {IN_ANSWER} is longer than the 255"),
    ({"client_id": ["moodle-client-7"]}, f"client_id {IN_ANSWER} is not text"),
    ({"client_id": True}, "not text"),
    ({"client_id": ""}, "returned no client_id"),
    ({TOOL_CONFIG: "12"}, f"lti-tool-configuration value {IN_ANSWER} is not a JSON object"),
    ({TOOL_CONFIG: {"deployment_id": {"id": 12}}}, f"deployment_id {IN_ANSWER} is not text"),
    ({TOOL_CONFIG: {"deployment_id": "d\u0000"}}, "NUL character"),
    ({TOOL_CONFIG: {"deployment_id": " 12"}}, "starts or ends with white space"),
])
def test_an_odd_answer_is_refused_and_names_the_lms_side(tool_server, changes, words):
    page, sent = _register(tool_server, answer_changes=changes)
    assert_refused(page, words, status=400)
    assert AFTER_POST in page_text(page)
    assert platform_count(tool_server) == 0


def test_numeric_ids_in_the_answer_are_stored_as_text(tool_server):
    from lti_app.models import Platform

    page, _sent = _register(tool_server, answer_changes={"client_id": 7, TOOL_CONFIG: {"deployment_id": 12}})
    assert page.status_code == 200, page_text(page)[:800]
    with tool_server.app.app_context():
        platform = db.session.scalar(db.select(Platform))
        assert (platform.client_id, [d.deployment_id for d in platform.deployments]) == ("7", ["12"])


@pytest.mark.postgres
@pytest.mark.parametrize("fake", [
    {"config_changes": {PLATFORM_CONFIG: {"product_family_code": "m" * 300}}},
    {"config_changes": {"token_endpoint": "http://127.0.0.1/token?" + "t" * 1000}},
    {"answer_changes": {"client_id": "c" * 300}},
])
def test_overlong_values_are_refused_in_words_on_postgres(make_tool_server, own_postgres, fake):  # noqa: F811
    """PostgreSQL enforces varchar lengths (SQLite does not): refused before the INSERT, not a 500."""
    server = make_tool_server(database_url=own_postgres)
    page, sent = _register(server, **fake)
    assert_refused(page, "characters Gradeloop can store", status=400)
    if "config_changes" in fake:
        assert sent == [CONFIG_PATH]
    assert platform_count(server) == 0


@pytest.mark.postgres
def test_a_value_the_database_refuses_is_a_400_not_a_500(make_tool_server, own_postgres, monkeypatch):  # noqa: F811
    """The last line of defence: a value the checks miss (here: checks switched off) and the
    database refuses is a refusal in words that names the LMS's side, not a 500."""
    from lti_app.lti import openid_configuration

    monkeypatch.setattr(openid_configuration, "check_configuration", lambda config: None)
    server = make_tool_server(database_url=own_postgres)
    page, _sent = _register(server, config_changes={PLATFORM_CONFIG: {"product_family_code": "m" * 300}})
    assert_refused(page, "has a value Gradeloop cannot store", status=400)
    assert AFTER_POST in page_text(page)
    assert platform_count(server) == 0
