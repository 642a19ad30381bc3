"""Signed launches whose claims have an odd JSON type or a NUL: a name, title or label is stored
without what cannot be (a NUL, a part that is not text) and the launch goes on; an id with a NUL
is refused in words (test_launch_rejected.py). On PostgreSQL, which refuses NUL in text, as on
SQLite. The deep-link page refuses, in words, a stored request whose accept_types is no list."""
from __future__ import annotations

import pytest

from lti_app.extensions import db
from lti_app.models import Course, DeepLinkingRequest, ResourceLink, Role, User
from tests.coursework.conftest import own_postgres  # noqa: F401  (fixture)
from tests.coursework.helpers import build_world, login
from tests.lti.conftest import assert_refused, page_text

LTI = "https://purl.imsglobal.org/spec/lti/claim/"
NUL_CLAIMS = {"name": "Ann\u0000 Lee", "email": "ann\u0000@school.example",
              LTI + "context": {"id": "course-1", "title": "Bio\u0000logy", "label": "BIO\u00001"},
              LTI + "resource_link": {"id": "rl-1", "title": "Essay\u0000 one"},
              LTI + "custom": {"gradeloop_assignment": "a\u0000b"}}


def _stored(server):
    """(user name, email, course title, course label, link title, link custom) after the launch.
    A custom parameter with a NUL is not kept: its value is looked up in text columns."""
    with server.app.app_context():
        user = db.session.scalar(db.select(User).filter_by(sub="teacher-1"))
        course = db.session.scalar(db.select(Course).filter_by(context_id="course-1"))
        link = db.session.scalar(db.select(ResourceLink).filter_by(resource_link_id="rl-1"))
        return user.name, user.email, course.title, course.label, link.title, link.custom


def _launch_with_nul_in_text(peer, server):
    response = peer.launch(claims=NUL_CLAIMS).response
    assert response.status_code == 200, page_text(response)[:800]
    assert _stored(server) == ("Ann Lee", "ann@school.example", "Biology", "BIO1", "Essay one", None)


def test_nul_is_removed_from_names_and_titles(peer, tool_server):
    _launch_with_nul_in_text(peer, tool_server)


@pytest.mark.postgres
def test_nul_is_removed_from_names_and_titles_on_postgres(make_tool_server, make_peer, own_postgres):  # noqa: F811
    server = make_tool_server(database_url=own_postgres)
    _launch_with_nul_in_text(make_peer(server), server)


@pytest.mark.postgres
def test_nul_in_an_id_is_refused_on_postgres(make_tool_server, make_peer, own_postgres):  # noqa: F811
    server = make_tool_server(database_url=own_postgres)
    response = make_peer(server).launch(claims={LTI + "context": {"id": "course\u00001"}}).response
    assert_refused(response, "course id (context id) contains a NUL character", status=400)


@pytest.mark.postgres
def test_a_first_deployment_id_with_nul_is_refused_on_postgres(make_tool_server, make_peer, own_postgres):  # noqa: F811
    """A platform without deployments records the one of its first signed launch: never one that
    PostgreSQL cannot store."""
    from lti_app.models import Deployment

    server = make_tool_server(database_url=own_postgres)
    peer = make_peer(server)
    with server.app.app_context():
        db.session.execute(db.delete(Deployment))
        db.session.commit()
    response = peer.launch(claims={LTI + "deployment_id": "dep\u00001"}).response
    assert_refused(response, "not a deployment id", status=400)
    with server.app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Deployment)) == 0


@pytest.mark.parametrize("claims, drop, name", [
    ({"given_name": 5, "family_name": "Lee"}, ("name",), "Lee"),
    ({"given_name": "Ann", "family_name": ["Lee"]}, ("name",), "Ann"),
    ({"name": {"full": "Ann Lee"}, "given_name": "Ann", "family_name": "Lee"}, (), "Ann Lee"),
])
def test_name_parts_that_are_not_text_are_skipped(peer, tool_server, claims, drop, name):
    response = peer.launch(claims=claims, drop_claims=drop).response
    assert response.status_code == 200, page_text(response)[:800]
    assert _stored(tool_server)[0] == name


def test_a_title_that_is_not_text_is_not_stored(peer, tool_server):
    response = peer.launch(claims={LTI + "context": {"id": "course-1", "title": {"en": "Biology"}, "label": 7}}).response
    assert response.status_code == 200, page_text(response)[:800]
    assert _stored(tool_server)[2:4] == ("", "7")


@pytest.mark.parametrize("accept_types", [5, "ltiResourceLink", [5]])
def test_deep_link_page_refuses_a_stored_request_with_odd_accept_types(app, accept_types):
    """Launches refuse such settings now; a request stored before they did must not be a 500."""
    world = build_world(app)
    client = app.test_client()
    login(client, app, course_id=world.course_a, user_id=world.teacher_a, role=Role.INSTRUCTOR, launch_id="dl-1")
    with app.app_context():
        db.session.add(DeepLinkingRequest(launch_id="dl-1", platform_id=world.platform, deployment_id="dep-1",
                                          settings={"deep_link_return_url": "https://lms.example/r",
                                                    "accept_types": accept_types}))
        db.session.commit()
    response = client.get("/coursework/deep-link")
    assert response.status_code == 400 and "accept_types is not a list of types" in page_text(response)
