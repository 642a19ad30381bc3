"""Dropping the scratch PostgreSQL databases that tests and benchmarks create.

`DROP DATABASE ... WITH (FORCE)` run by a role that is not a superuser fails with "must be a
member of the role whose process is being terminated or member of pg_signal_backend" when an
autovacuum worker happens to be working in that database (CI saw it once). A plain `DROP DATABASE`
stops autovacuum workers itself, so that is tried next, for a few seconds while other connections
(a test's pool closing) go away."""
from __future__ import annotations

import time

import sqlalchemy as sa


def drop_database(admin: sa.Engine, name: str, *, patience_s: float = 10.0) -> None:
    """Drop the database `name` through `admin` (an AUTOCOMMIT engine on the server)."""
    deadline = time.monotonic() + patience_s
    statement = f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'
    while True:
        try:
            with admin.connect() as conn:
                conn.execute(sa.text(statement))
            return
        except sa.exc.DBAPIError as exc:
            if time.monotonic() > deadline:
                raise
            if "pg_signal_backend" in str(exc):   # an autovacuum worker: not ours to terminate
                statement = f'DROP DATABASE IF EXISTS "{name}"'
            time.sleep(0.2)
