"""Scratch databases are dropped after the tests that made them (`tests/scratch_postgres`), even
when the plain `DROP DATABASE` is the one left (an autovacuum worker refused the forced one) and a
test's pool still holds connections to it: CI failed once with "There are 4 other sessions using
the database" at a test's teardown."""
from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from tests.scratch_postgres import drop_database


@pytest.mark.postgres
def test_the_fallback_drop_ends_the_sessions_a_test_left_open(postgres_url):
    admin = sa.create_engine(postgres_url.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
    name = f"gl_drop_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    pool = sa.create_engine(postgres_url.rsplit("/", 1)[0] + "/" + name)
    held = [pool.connect() for _ in range(3)]   # a test's threads, still connected
    for conn in held:
        conn.execute(sa.text("SELECT 1"))
    try:
        drop_database(admin, name, force=False, patience_s=5.0)
        with admin.connect() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM pg_database WHERE datname = :n"), {"n": name}).scalar() == 0
    finally:
        for conn in held:   # ended on the server: nothing to roll back or close
            conn.invalidate()
        pool.dispose()
        drop_database(admin, name)
        admin.dispose()
