"""`gradeloop` offers only its own options. Flask's group options made no sense for it and misled
operators: `-e/--env-file` needs python-dotenv (not installed: settings come from the
environment, docs/deployment.md), `-A/--app` would swap the application, and `--debug` turned on
Flask's debug mode."""
from __future__ import annotations

import pytest
from click.testing import CliRunner

from lti_app.cli import main


def test_help_lists_no_flask_group_options():
    answer = CliRunner().invoke(main, ["--help"])
    assert answer.exit_code == 0
    for option in ("--env-file", "--app", "--debug", "python-dotenv"):
        assert option not in answer.output, option
    assert "--version" in answer.output and "Commands:" in answer.output


@pytest.mark.parametrize("option", [["-e", "x.env"], ["--env-file", "x.env"], ["-A", "wsgi"], ["--debug"]])
def test_flask_group_options_are_refused(option):
    answer = CliRunner().invoke(main, [*option, "--help"])
    assert answer.exit_code == 2 and "No such option" in answer.output
