"""Admin commands given a number out of range (a 20-digit id, 3,000,000 inactive days) answer with
a usage error that names the allowed range, not a traceback from the database (SQLite
OverflowError, PostgreSQL DataError past 2**31-1) or from the date arithmetic."""
from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from lti_app.cli import main
from lti_app.routing import MAX_ID

HUGE = "99999999999999999999"


@pytest.fixture
def gradeloop(monkeypatch, tmp_path):
    """gradeloop(*args): run the command on a migrated SQLite database of this test's own."""
    for name, value in {"GRADELOOP_ENV": "test", "GRADELOOP_DATA_DIR": str(tmp_path / "data"),
                        "GRADELOOP_DATABASE_URL": f"sqlite:///{tmp_path}/t.db", "GRADELOOP_SECRET_KEY": "test-secret",
                        "GRADELOOP_BROKER_URL": "memory://"}.items():
        monkeypatch.setenv(name, value)
    assert CliRunner().invoke(main, ["upgrade-db"]).exit_code == 0
    return lambda *args: CliRunner().invoke(main, list(args))


@pytest.mark.parametrize("args", [
    ["course", "purge", "--inactive-days", "3000000", "--dry-run"],
    ["course", "list", "--inactive-days", HUGE],
    ["course", "list", "--platform", HUGE],
    ["course", "delete", "--course", HUGE, "--yes"],
    ["platform", "disable", HUGE], ["platform", "enable", HUGE], ["platform", "remove", HUGE, "--yes"],
    ["platform", "remove-deployment", HUGE, "dep-1"], ["platform", "move-courses", HUGE, "1"],
    ["platform", "refresh-keys", str(MAX_ID + 1)],
    ["privacy", "erase-people", "--platform", HUGE, "--dry-run"],
    ["deadletters", "requeue", HUGE], ["deadletters", "list", "--assignment", HUGE],
    ["model", "rollback", "--assignment", HUGE], ["model", "list", "--assignment", "0"],
    ["worker", "--concurrency", "100000"], ["serve", "--port", "70000"],
])
def test_an_out_of_range_number_is_a_usage_error_in_words(gradeloop, args):
    answer = gradeloop(*args)
    assert answer.exit_code == 2, (answer.output, answer.exception)
    assert "is not in the range" in answer.output and "Traceback" not in answer.output, answer.output


def test_the_largest_id_is_still_looked_up(gradeloop):
    answer = gradeloop("platform", "disable", str(MAX_ID))
    assert answer.exit_code == 1 and "Traceback" not in answer.output, (answer.output, answer.exception)


def _commands(command, path=()):
    if isinstance(command, click.Group):
        for name, sub in command.commands.items():
            yield from _commands(sub, (*path, name))
    else:
        yield " ".join(path), command


def test_every_id_and_days_parameter_is_bounded():
    """Each command's ids and day counts, found by name: a new one declared `type=int` fails here."""
    unbounded = [f"{path} {param.name}" for path, command in _commands(main) for param in command.params
                 if (param.name.endswith(("_id", "_version", "days")) or param.name in ("port", "sandbox_port"))
                 and isinstance(param.type, click.types.IntParamType) and not isinstance(param.type, click.IntRange)]
    assert unbounded == []
