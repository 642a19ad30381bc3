"""`gradeloop` says "not migrated, run `gradeloop db upgrade`" only when tables or columns are
missing. It used to say so for any database error containing "does not exist", so a URL naming a
database that was never created (`FATAL: database "gradeloop" does not exist`) sent operators to
`gradeloop db upgrade`, and `gradeloop upgrade-db` itself answered it with the same advice."""
from __future__ import annotations

import sqlite3
import uuid

import pytest
from click.testing import CliRunner
from sqlalchemy.exc import OperationalError

from lti_app.cli import main

NOT_MIGRATED = "The database is not migrated"


@pytest.fixture
def database(monkeypatch, tmp_path):
    """database(url): point the `gradeloop` command at `url` (its app is built per invocation)."""
    for name, value in {"GRADELOOP_ENV": "test", "GRADELOOP_DATA_DIR": str(tmp_path / "data"),
                        "GRADELOOP_SECRET_KEY": "test-secret", "GRADELOOP_BROKER_URL": "memory://"}.items():
        monkeypatch.setenv(name, value)
    return lambda url: monkeypatch.setenv("GRADELOOP_DATABASE_URL", url)


def test_sqlite_without_the_tables_is_not_migrated(database, tmp_path):
    path = tmp_path / "old.db"
    sqlite3.connect(path).execute("CREATE TABLE unrelated (id INTEGER)").connection.close()
    database(f"sqlite:///{path}")
    answer = CliRunner().invoke(main, ["platform", "list"])
    assert answer.exit_code == 1 and NOT_MIGRATED in answer.output and "no such table" in answer.output


def test_a_failing_migration_is_not_told_to_migrate(database, tmp_path, monkeypatch):
    from lti_app import serving

    def broken_migration():
        raise OperationalError("ALTER TABLE grades ...", {}, sqlite3.OperationalError("no such table: grades"))

    monkeypatch.setattr(serving, "upgrade_database", broken_migration)
    database(f"sqlite:///{tmp_path / 'db.sqlite'}")
    answer = CliRunner().invoke(main, ["upgrade-db"])
    assert NOT_MIGRATED not in answer.output and isinstance(answer.exception, OperationalError)


@pytest.mark.postgres
def test_postgres_missing_tables_versus_a_missing_database(database, postgres_url):
    url = postgres_url.replace("postgresql://", "postgresql+psycopg://")
    database(url)   # the scratch database exists and is empty: `relation "platforms" does not exist`
    answer = CliRunner().invoke(main, ["platform", "list"])
    assert answer.exit_code == 1 and NOT_MIGRATED in answer.output, answer.output

    database(url.rsplit("/", 1)[0] + f"/gl_never_created_{uuid.uuid4().hex[:8]}")
    for command in (["platform", "list"], ["upgrade-db"]):
        answer = CliRunner().invoke(main, command)
        assert NOT_MIGRATED not in answer.output, (command, answer.output)
        # The driver's own words reach the operator: which database is missing.
        assert isinstance(answer.exception, OperationalError), (command, answer.exception)
        assert "does not exist" in str(answer.exception) and "gl_never_created_" in str(answer.exception)
