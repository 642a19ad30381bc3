"""`make install` gets the CPU build of torch both where pip has a wheel folder or mirror with it
(this machine) and on a fresh machine with only PyPI, which hosts no `+cpu` builds: there the
install is retried with PyTorch's CPU index as an extra index. pip is replaced by a script that
logs its arguments and plays the part of each kind of index (nothing is installed)."""
from __future__ import annotations

import os
import shutil
import subprocess
import textwrap

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="needs GNU make")

PYTORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"
# What each fake index answers for `pip install torch==...+cpu` (everything else installs).
INDEXES = {
    "wheel-folder": "exit 0",                        # pip config has the +cpu wheel (find-links, mirror)
    "pypi-only": 'case "$*" in *--extra-index-url*) exit 0;; esac; exit 1',
    "nowhere": "exit 1",
}


def _make_install(tmp_path, index: str, *extra: str, system: str | None = None
                  ) -> tuple[subprocess.CompletedProcess, list[str]]:
    venv, log = tmp_path / "venv", tmp_path / "pip.log"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "python").write_text("")      # the venv "exists": only the install rule runs
    pip = tmp_path / "pip"
    pip.write_text(textwrap.dedent(f"""\
        #!/bin/sh
        echo "$*" >> "{log}"
        case "$*" in
          *+cpu*) {INDEXES[index]}
            ;;
        esac
        exit 0
        """).replace("exit 1", 'echo "ERROR: No matching distribution found for $*" >&2; exit 1'))
    pip.chmod(0o755)
    env = {**os.environ, "MAKEFLAGS": ""}
    if system is not None:   # what `uname -s` answers, through a stand-in first on the PATH
        fake = tmp_path / "fake-bin"
        fake.mkdir()
        (fake / "uname").write_text(f"#!/bin/sh\necho {system}\n")
        (fake / "uname").chmod(0o755)
        env["PATH"] = f"{fake}{os.pathsep}{env.get('PATH', '')}"
    done = subprocess.run(["make", "--no-print-directory", f"{venv}/.installed", f"VENV={venv}", f"PIP={pip}",
                           *extra],
                          cwd=ROOT, capture_output=True, text=True, timeout=60, env=env)
    return done, log.read_text().splitlines() if log.exists() else []


def test_configured_sources_are_enough(tmp_path):
    done, calls = _make_install(tmp_path, "wheel-folder")
    assert done.returncode == 0, done.stderr
    torch = [c for c in calls if "torch" in c]
    assert torch == ["install --quiet torch==2.13.0+cpu"], "no network index when pip already finds it"


def test_pypi_only_machine_gets_the_cpu_build_from_pytorch(tmp_path):
    done, calls = _make_install(tmp_path, "pypi-only")
    assert done.returncode == 0, done.stderr
    torch = [c for c in calls if "torch" in c]
    assert torch == ["install --quiet torch==2.13.0+cpu",
                     f"install --quiet --extra-index-url {PYTORCH_CPU_INDEX} torch==2.13.0+cpu"]
    assert "install --quiet -e ." in calls and (tmp_path / "venv" / ".installed").exists()


def test_a_torch_that_is_nowhere_fails_with_pips_error(tmp_path):
    done, _ = _make_install(tmp_path, "nowhere")
    assert done.returncode != 0 and "No matching distribution" in done.stderr
    assert not (tmp_path / "venv" / ".installed").exists()
    done, calls = _make_install(tmp_path / "off", "nowhere", "TORCH_INDEX_URL=")
    assert done.returncode != 0 and "No matching distribution" in done.stderr
    assert not any("--extra-index-url" in c for c in calls)


def test_macos_asks_for_the_plain_build(tmp_path):
    # PyTorch's CPU index names its macOS wheels without `+cpu`: torch==2.13.0+cpu matched nothing.
    done, calls = _make_install(tmp_path, "wheel-folder", system="Darwin")
    assert done.returncode == 0, done.stderr
    assert [c for c in calls if "torch" in c] == ["install --quiet torch==2.13.0"]
    done, calls = _make_install(tmp_path / "linux", "wheel-folder", system="Linux")
    assert [c for c in calls if "torch" in c] == ["install --quiet torch==2.13.0+cpu"]
