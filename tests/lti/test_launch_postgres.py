"""The launch on PostgreSQL (the production database): the ON CONFLICT insert path under
concurrent first launches, and single-use state/nonce enforcement."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from lti_app.extensions import db
from lti_app.models import CourseRole, User
from tests.lti.conftest import assert_refused

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_tool_server(make_tool_server, postgres_url):
    """The tool on the session's scratch PostgreSQL database, emptied afterwards so the
    migration tests that share the database still start from nothing."""
    server = make_tool_server(database_url=postgres_url)
    yield server
    with server.app.app_context():
        db.session.remove()
        db.drop_all()


def test_launches_on_postgres(pg_tool_server, make_peer):
    server = pg_tool_server
    server.app.config["GRADELOOP_JWKS_REFETCH_COOLDOWN"] = 0
    peer = make_peer(server)
    with ThreadPoolExecutor(6) as pool:
        results = list(pool.map(lambda i: peer.launch(role="Learner", user_id="pg-student",
                                                      course_id="pg-course"), range(6)))
    assert [r.response.status_code for r in results] == [200] * 6
    with server.app.app_context():
        user = db.session.scalar(db.select(User).filter_by(sub="pg-student", platform_id=_platform_id(server, peer)))
        assert db.session.scalar(db.select(db.func.count()).select_from(CourseRole)
                                 .filter_by(user_id=user.id)) == 1
    first = results[0]
    again = first.browser.post(server.url + "/lti/launch", data={"id_token": first.id_token, "state": first.state},
                               timeout=30)
    assert_refused(again, "already used", existing_session=first.browser.cookies.get("gradeloop_session"))


def _platform_id(server, peer) -> int:
    from lti_app.models import Platform

    return db.session.scalar(db.select(Platform.id).filter_by(issuer=peer.issuer))


def test_nul_characters_are_a_400_on_postgres(pg_tool_server, make_peer):
    """PostgreSQL refuses NUL in text: a NUL in the launch's state or the login's target must be a
    400 in words, not a 500 from the database."""
    server = pg_tool_server
    peer = make_peer(server)
    launch = server.url + "/lti/launch"
    response = peer.browser().post(launch, data={"state": "a\x00b", "id_token": "a.b.c"}, timeout=30)
    assert response.status_code == 400 and "NUL character" in response.text
    login = peer.browser().get(server.url + "/lti/login", allow_redirects=False, timeout=30, params={
        "iss": peer.issuer, "login_hint": "u", "target_link_uri": launch + "?\x00"})
    assert login.status_code == 400 and "NUL character" in login.text
