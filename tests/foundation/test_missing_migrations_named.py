"""A database several migrations behind the code (an upgrade that skipped releases): `serve` and
`worker` refuse to start and say how many migrations are missing, from the first to the last. They
named only the newest before ("missing migration 0013_..." with 0011 to 0013 all missing), which
read as one step where `gradeloop db upgrade` applies several."""
from __future__ import annotations

import pytest
from click.testing import CliRunner

from lti_app import serving
from lti_app.cli import main


@pytest.fixture
def behind(monkeypatch, tmp_path) -> list[str]:
    """The `gradeloop` command pointed at a database migrated up to the fourth-newest revision: the
    three newest (returned, oldest first) are missing."""
    from flask_migrate import upgrade

    from lti_app import create_app

    url = f"sqlite:///{tmp_path / 'behind.db'}"
    for name, value in {"GRADELOOP_ENV": "test", "GRADELOOP_DATA_DIR": str(tmp_path / "data"),
                        "GRADELOOP_SECRET_KEY": "test-secret", "GRADELOOP_BROKER_URL": "memory://",
                        "GRADELOOP_DATABASE_URL": url}.items():
        monkeypatch.setenv(name, value)
    app = create_app()
    with app.app_context():
        _, script = serving._migrations()
        revisions = [revision.revision for revision in reversed(list(script.walk_revisions()))]
        upgrade(revision=revisions[-4])
    return revisions[-3:]


def test_the_worker_names_every_missing_migration(behind):
    answer = CliRunner().invoke(main, ["worker"])
    assert answer.exit_code == 1, answer.output
    assert (f"The database is behind this version of Gradeloop (missing 3 migrations, {behind[0]} to {behind[-1]}): "
            "run `gradeloop db upgrade` first.") in answer.output


def test_serve_names_every_missing_migration(behind):
    with pytest.raises(SystemExit) as stopped:
        serving.serve("127.0.0.1", 8000, workers=1)
    assert str(stopped.value) == (f"The database is not migrated yet (missing 3 migrations, {behind[0]} to "
                                  f"{behind[-1]}): run `gradeloop db upgrade` (or `gradeloop serve --migrate`) first.")


def test_one_missing_migration_is_named_alone(behind):
    from flask_migrate import upgrade

    from lti_app import create_app

    with create_app().app_context():
        upgrade(revision=behind[-2])
        assert serving.pending_migrations() == behind[-1:]
        assert f"(missing migration {behind[-1]})" in serving.schema_problem()
