"""Row locks that hold on the embedded SQLite as on PostgreSQL.

PostgreSQL takes the row locks `SELECT ... FOR UPDATE` asks for. SQLite has none and drops the
clause, and pysqlite opens its transaction only at the first write, so a check-then-write ("was
this essay graded since the teacher opened the page?") read whatever was committed at that
moment and two requests could both pass it: both graders were told "saved", one grade vanished.
`for_update()` therefore first takes SQLite's database-wide write lock (BEGIN IMMEDIATE, which
waits up to busy_timeout for the current writer): the check then reads the latest committed
state and nobody else writes until this transaction ends. Only for short critical sections:
never hold it across an HTTP call to the LMS (every launch and save would wait behind it).
"""
from __future__ import annotations

from lti_app.extensions import db


def sqlite_write_lock() -> None:
    """On SQLite, make the session's transaction a write transaction now (no-op elsewhere, and
    when it already is one: a write earlier in it took the lock)."""
    conn = db.session.connection()
    if conn.dialect.name != "sqlite":
        return
    if not conn.connection.driver_connection.in_transaction:
        # Through SQLAlchemy, so a busy database raises its OperationalError like any other
        # statement (callers catch SQLAlchemyError), not sqlite3's own.
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def for_update(stmt, **kwargs):
    """`stmt.with_for_update(**kwargs)`, with SQLite's write lock taken first (module docstring)."""
    sqlite_write_lock()
    return stmt.with_for_update(**kwargs)
