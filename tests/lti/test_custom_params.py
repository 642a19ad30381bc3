"""Custom parameters: the resource link row keeps only the ones Gradeloop reads.

`resource_links.custom` is one row per link, shared by everyone who launches it, and no privacy
export or erasure covers it: a per-person value there (Canvas's `$Canvas.user.loginId`, a Moodle
admin's `student_number=$User.idnumber`) would be the last launcher's and stay. Keeping only what
the tool reads also keeps the row identical between people, so a returning person's launch stays
the one-SELECT path instead of an UPDATE of a row every student of the link contends for."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from lti_app.coursework.course_copy import CUSTOM_PARAM
from lti_app.extensions import db
from lti_app.models import ResourceLink
from tests.lti.conftest import page_text

CUSTOM = "https://purl.imsglobal.org/spec/lti/claim/custom"


def _custom(login_id: str) -> dict:
    # What Canvas substitutes per person when the developer key asks for these fields.
    return {CUSTOM_PARAM: "gl-abc123", "canvas_user_login_id": login_id, "canvas_course_id": "4711",
            "canvas_assignment_id": "815", "student_number": login_id}


def _launch(peer, user_id: str, login_id: str, role: str = "Learner"):
    result = peer.launch(role=role, user_id=user_id, claims={CUSTOM: _custom(login_id)})
    assert result.response.status_code == 200, page_text(result.response)[:800]
    return result


def _link_rows(tool_server) -> list[tuple]:
    with tool_server.app.app_context():
        return [tuple(row) for row in db.session.execute(sa.select(ResourceLink.__table__))]


@pytest.fixture
def link_updates(tool_server):
    """UPDATE statements the tool sent for `resource_links` (its request threads share the engine)."""
    statements: list[str] = []

    def seen(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("UPDATE RESOURCE_LINKS"):
            statements.append(statement)

    with tool_server.app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", seen)
    yield statements
    sa.event.remove(engine, "before_cursor_execute", seen)


def test_only_the_custom_parameters_gradeloop_reads_are_stored(peer, tool_server):
    _launch(peer, "teacher-1", "t0000001", role="Instructor")
    _launch(peer, "student-1", "s1234567")
    rows = _link_rows(tool_server)
    assert len(rows) == 1 and "s1234567" not in repr(rows) and "4711" not in repr(rows)
    with tool_server.app.app_context():
        assert db.session.scalar(sa.select(ResourceLink.custom)) == {CUSTOM_PARAM: "gl-abc123"}


def test_students_launching_one_link_do_not_rewrite_it(peer, tool_server, link_updates):
    _launch(peer, "teacher-1", "t0000001", role="Instructor")
    assert link_updates == []
    for user_id, login_id in (("student-1", "s1111111"), ("student-2", "s2222222"), ("student-1", "s1111111")):
        _launch(peer, user_id, login_id)
    assert link_updates == []


def test_a_link_without_our_parameter_keeps_none(peer, tool_server):
    peer.launch(role="Instructor", claims={CUSTOM: {"canvas_user_login_id": "t0000001"}})
    with tool_server.app.app_context():
        assert db.session.scalar(sa.select(ResourceLink.custom)) in (None, {})


def test_canvas_configuration_asks_for_no_login_id(client):
    config = client.get("/lti/canvas.json").get_json()
    asked = config.get("custom_fields") or {}
    assert "$Canvas.user.loginId" not in repr(config)
    # Canvas adds a developer key's custom fields to every launch; the link's own parameter comes
    # from Deep Linking. A field the tool does not read would only be dropped at the launch.
    assert set(asked) <= {CUSTOM_PARAM}
