"""A signed launch whose claims hold half of a character: a lone UTF-16 surrogate, valid JSON
("\\ud83e" is what JavaScript's JSON.stringify writes for an emoji cut in two by substring). No
database can store it, and the launch was a 500. In a name, e-mail or title it becomes U+FFFD and
the launch goes on; in an id, a service address, the deployment id or the nonce it is refused in
words, as a NUL is. On SQLite and on PostgreSQL, through the real LTI platform peer."""
from __future__ import annotations

import pytest

from lti_app.extensions import db
from lti_app.models import Course, ResourceLink, User
from tests.coursework.conftest import own_postgres  # noqa: F401  (fixture)
from tests.lti.conftest import assert_refused, page_text

LTI = "https://purl.imsglobal.org/spec/lti/claim/"
AGS = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
NRPS = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
CUT = "Biology \U0001F9EC"[:-1] + "\ud83e"   # the emoji's second half cut off

DISPLAY_CLAIMS = {"name": "Zo\u00eb \ud83d", "email": "zoe\ud83d@school.example",
                  LTI + "context": {"id": "course-1", "title": CUT, "label": "BIO\udc00"},
                  LTI + "resource_link": {"id": "rl-1", "title": "Essay \ud83d one"}}

REFUSED = {   # claims -> what the refusal names
    "course id": ({LTI + "context": {"id": "course-\ud83e", "title": "Biology"}}, "course id (context id) contains half"),
    "user id": ({"sub": "teacher-\ud83e"}, "user id (sub) contains half"),
    "resource link id": ({LTI + "resource_link": {"id": "rl-\ud83e"}}, "resource link id contains half"),
    "roster address": ({NRPS: {"context_memberships_url": "https://lms.example/\ud83e", "service_versions": ["2.0"]}},
                       "course roster (NRPS) address contains half"),
    "gradebook address": ({AGS: {"scope": [], "lineitems": "https://lms.example/\ud83e"}},
                          "gradebook (AGS lineitems) address contains half"),
    "deployment id": ({LTI + "deployment_id": "deployment-\ud83e"}, "not a deployment id"),
    "nonce": ({"nonce": "\ud800"}, "nonce does not match"),
}


def _stored(server):
    with server.app.app_context():
        user = db.session.scalar(db.select(User).filter_by(sub="teacher-1"))
        course = db.session.scalar(db.select(Course).filter_by(context_id="course-1"))
        link = db.session.scalar(db.select(ResourceLink).filter_by(resource_link_id="rl-1"))
        return user.name, user.email, course.title, course.label, link.title


def _check_display_fields(peer, server):
    response = peer.launch(claims=DISPLAY_CLAIMS).response
    assert response.status_code == 200, page_text(response)[:800]
    assert _stored(server) == ("Zo\u00eb \ufffd", "zoe\ufffd@school.example", "Biology \ufffd", "BIO\ufffd",
                               "Essay \ufffd one")


def _check_refusals(peer, server):
    for name, (claims, words) in REFUSED.items():
        response = peer.launch(claims=claims).response
        assert_refused(response, words, status=400)
    with server.app.app_context():
        assert db.session.scalars(db.select(Course.context_id)).all() == [], "nothing stored"


def test_half_a_character_in_a_name_or_title_is_replaced(peer, tool_server):
    _check_display_fields(peer, tool_server)


def test_half_a_character_in_an_id_address_or_nonce_is_refused_in_words(peer, tool_server):
    _check_refusals(peer, tool_server)


@pytest.mark.postgres
def test_half_a_character_on_postgres(make_tool_server, make_peer, own_postgres):  # noqa: F811
    server = make_tool_server(database_url=own_postgres)
    peer = make_peer(server)
    _check_refusals(peer, server)
    _check_display_fields(peer, server)
