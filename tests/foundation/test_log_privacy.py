"""A database error while an essay is stored (SQLite "database is locked" under load, a PostgreSQL
restart mid-statement) is logged without the statement's values: the log holds the LMS's ids,
never a student's essay (docs/privacy.md)."""
from __future__ import annotations

import logging
import sqlite3

from sqlalchemy import event

from lti_app.extensions import db
from tests.coursework.flows import create_by_deep_link, open_assignment, post_form

ESSAY = "My little brother was in hospital all spring and my parents are separating."


def test_a_database_error_on_hand_in_logs_no_essay_text(peer, tool_server, caplog):
    item = create_by_deep_link(peer, tool_server)
    browser, page = open_assignment(peer, tool_server, user_id="student-1", resource_link_id=item["resource_link_id"],
                                    name="Ada Student")
    with tool_server.app.app_context():
        engine = db.engine

    def locked(cursor, statement, parameters, context):
        if statement.lstrip().upper().startswith("INSERT INTO SUBMISSIONS"):
            raise sqlite3.OperationalError("database is locked")
        return False

    event.listen(engine, "do_execute", locked)
    # As in production: Flask logs the exception and answers 500 (under test it would propagate).
    tool_server.app.testing = False
    tool_server.app.config["PROPAGATE_EXCEPTIONS"] = False
    try:
        with caplog.at_level(logging.INFO):
            answer = post_form(browser, page, {"text": ESSAY + " More words about the week." * 10},
                               action_contains="/essay")
    finally:
        event.remove(engine, "do_execute", locked)
    errors = [r for r in caplog.records if r.exc_info]
    assert answer.status_code == 500 and errors, "the error is logged, with its traceback"
    logged = "\n".join(r.getMessage() + "\n" + logging.Formatter().formatException(r.exc_info) for r in errors)
    assert "database is locked" in logged and "INSERT INTO submissions" in logged
    assert "hospital" not in logged and "Ada Student" not in logged
