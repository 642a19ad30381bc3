"""The migrated schema has an index for each lookup that read a whole table: the dashboard's
"training requested" check (polled every 2 s while a run is awaited), housekeeping's delete of
old processed-message ids, and a person's grades, roles and essays (export, erasure and the
deletion of their user row). Each statement those run is explained on the database itself."""
from __future__ import annotations

import re

import pytest
from flask_migrate import upgrade
from sqlalchemy import event

from lti_app import create_app
from lti_app.extensions import db
from tests.coursework.helpers import build_world
from tests.e2e.conftest import scratch_postgres

# The tables the lookups were full scans of.
TABLES = ("outbox_events", "processed_messages", "grades", "course_roles", "submissions")
SQLITE_SCAN = re.compile(rf"^SCAN ({'|'.join(TABLES)})\b")
PG_NODE = re.compile(r"(Seq Scan on|Index (?:Only )?Scan (?:Backward )?using|Bitmap Index Scan on) (\w+)")
PG_COND = re.compile(r"Index Cond: \(+(\w+)")


def _statements(app, world) -> list[tuple[str, object]]:
    """What the dashboard's training status, housekeeping, and a student's export and erasure run."""
    from lti_app.dashboard.report import training_status
    from lti_app.erasure import erase_user, export_user
    from lti_app.models import User
    from worker.scheduler import housekeeping

    seen = []

    def note(conn, cursor, statement, parameters, context, executemany):
        if not executemany and statement.lstrip().upper().startswith(("SELECT", "UPDATE", "DELETE")):
            seen.append((statement, parameters))

    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", note)
        try:
            training_status(world.assignment_a)
            housekeeping()
            student = db.session.get(User, world.student1_a)
            export_user(student)
            erase_user(student)
        finally:
            event.remove(db.engine, "before_cursor_execute", note)
    return seen


def _sqlite_whole(conn, plan: list[str]) -> bool:
    return any(SQLITE_SCAN.search(line.strip()) for line in plan)


def _pg_whole(conn, plan: list[str]) -> bool:
    """A sequential scan of one of TABLES, or an index of one read whole: no condition on the
    index's first column (PostgreSQL reads all of uq(course_id, user_id) to find a user_id)."""
    leading = dict(conn.exec_driver_sql(
        "SELECT i.relname, t.relname || '.' || a.attname FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid"
        " JOIN pg_class t ON t.oid = x.indrelid"
        " JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = x.indkey[0]").all())
    for n, line in enumerate(plan):
        node = PG_NODE.search(line)
        if node is None:
            continue
        kind, name = node.groups()
        if kind == "Seq Scan on":
            if name in TABLES:
                return True
            continue
        table, column = leading[name].split(".")
        depth = len(line) - len(line.lstrip())
        below = []
        for after in plan[n + 1:]:
            if len(after) - len(after.lstrip()) <= depth or after.lstrip().startswith("->"):
                break
            below.append(after)
        cond = next((m.group(1) for m in map(PG_COND.search, below) if m), None)
        if table in TABLES and cond != column:
            return True
    return False


def _whole_table_reads(app) -> list[str]:
    """The migrated database's plans that read one of TABLES whole, with their statements."""
    with app.app_context():
        upgrade()
        world = build_world(app)
        statements = _statements(app, world)
        found = []
        with db.engine.connect() as conn:
            postgres = conn.dialect.name == "postgresql"
            if postgres:
                # A few rows read fastest without an index: ask whether one can be used at all.
                conn.exec_driver_sql("SET enable_seqscan = off")
            for statement, parameters in statements:
                plan = [row[-1] for row in conn.exec_driver_sql(
                    f"{'EXPLAIN' if postgres else 'EXPLAIN QUERY PLAN'} {statement}", parameters)]
                if (_pg_whole if postgres else _sqlite_whole)(conn, plan):
                    found.append(" ".join(statement.split())[:200] + "\n" + "\n".join(plan))
        db.engine.dispose()
    assert len(statements) > 20   # the operations ran
    return found


def test_lookups_use_an_index_sqlite(tmp_path):
    app = create_app(env="test", data_dir=str(tmp_path), secret_key="x",
                     database_url=f"sqlite:///{tmp_path / 'ix.db'}", broker_url="memory://")
    assert _whole_table_reads(app) == []


@pytest.mark.postgres
def test_lookups_use_an_index_postgres(tmp_path, postgres_url):
    with scratch_postgres(postgres_url) as url:
        app = create_app(env="test", data_dir=str(tmp_path), secret_key="x", database_url=url,
                         broker_url="memory://")
        assert _whole_table_reads(app) == []
