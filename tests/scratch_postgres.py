"""Dropping the scratch PostgreSQL databases that tests and benchmarks create.

`DROP DATABASE ... WITH (FORCE)` run by a role that is not a superuser fails with "must be a
member of the role whose process is being terminated or member of pg_signal_backend" when an
autovacuum worker happens to be working in that database (CI saw it once). A plain `DROP DATABASE`
stops autovacuum workers itself, but fails while any client session is connected: a test's pool
(worker threads' connections) may still hold some (CI saw "There are 4 other sessions using the
database" after the fallback). So the fallback first ends the client sessions in that database,
which a role may do to its own sessions, and then drops it plainly, for a few seconds."""
from __future__ import annotations

import time

import sqlalchemy as sa

_CLIENTS = sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :name "
                   "AND pid <> pg_backend_pid() AND backend_type = 'client backend'")


def drop_database(admin: sa.Engine, name: str, *, patience_s: float = 10.0, force: bool = True) -> None:
    """Drop the database `name` through `admin` (an AUTOCOMMIT engine on the server). `force=False`
    starts with the fallback (what follows an autovacuum worker's refusal)."""
    deadline = time.monotonic() + patience_s
    while True:
        try:
            with admin.connect() as conn:
                if force:
                    conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                else:
                    conn.execute(_CLIENTS, {"name": name})
                    conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
            return
        except sa.exc.DBAPIError as exc:
            if time.monotonic() > deadline:
                raise
            if "pg_signal_backend" in str(exc):   # an autovacuum worker: not ours to terminate
                force = False
            time.sleep(0.2)
