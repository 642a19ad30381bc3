"""`gradeloop bench`'s essay counts are whole numbers from 1: `--max-test -5` sliced the test split
from the end (all but its last five essays) and `0` trained every model for nothing. Each is a
usage error before any data is read or anything trains."""
from __future__ import annotations

import pytest
from click.testing import CliRunner

from worker.ml.cli import bench_command


@pytest.mark.parametrize("option", ["--max-test", "--latency-essays", "--parity-essays"])
@pytest.mark.parametrize("value", ["0", "-5"])
def test_an_essay_count_below_one_is_a_usage_error(tmp_path, option, value):
    res = CliRunner().invoke(bench_command, ["--data", str(tmp_path / "no-such-corpus"), option, value])
    assert res.exit_code == 2, res.output
    assert f"Invalid value for '{option}'" in res.output and "x>=1" in res.output, res.output


@pytest.mark.parametrize("option", ["--max-test", "--latency-essays", "--parity-essays"])
def test_one_essay_is_accepted(tmp_path, option):
    """The option passes; the command then stops at the missing corpus, before training."""
    res = CliRunner().invoke(bench_command, ["--data", str(tmp_path / "no-such-corpus"), option, "1"])
    assert res.exit_code == 1 and "does not exist" in res.output, res.output
