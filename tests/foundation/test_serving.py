"""`gradeloop serve` (gunicorn) for real: it migrates on request, serves, and its access log never
holds the launch token that travels in URLs inside LMS iframes; its default process count follows
the CPUs the process may use and stays within PostgreSQL's connections."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from functools import partial

import pytest
import requests

from lti_app import serving
from tests.conftest import ROOT
from tests.free_ports import start_on_free_ports, wait_until_said

SECRET = "lt-SECRET-launch-token"


def _serve(tmp_path, port: int):
    """`gradeloop serve` on `port`, once gunicorn says it listens there: (process, port, its
    output's path, access log's path). `PortTaken` when another process took the port first."""
    output, log = tmp_path / f"serve-{port}.out", tmp_path / f"access-{port}.log"
    env = {**os.environ, "GRADELOOP_DATA_DIR": str(tmp_path / "data"), "GRADELOOP_ENV": "development",
           "GRADELOOP_ACCESS_LOG": str(log)}
    with open(output, "w") as out:
        server = subprocess.Popen([sys.executable, "-m", "lti_app.cli", "serve", "--migrate", "--port", str(port),
                                   "--workers", "1", "--threads", "1"], cwd=ROOT, env=env,
                                  stdout=out, stderr=subprocess.STDOUT)
    # Its own "Listening at" line: an answer on the port before it could be another process's.
    wait_until_said(server, output, f"Listening at: http://127.0.0.1:{port}", 60)
    return server, port, output, log


def test_served_app_logs_paths_without_launch_tokens(tmp_path):
    server, port, output, log = start_on_free_ports(1, partial(_serve, tmp_path))
    try:
        url = f"http://127.0.0.1:{port}/lti/jwks"
        deadline = time.monotonic() + 60
        while True:
            try:
                answer = requests.get(url, params={"lt": SECRET},
                                      headers={"Referer": f"http://127.0.0.1:{port}/coursework/?lt={SECRET}"},
                                      timeout=5)
                break
            except requests.ConnectionError:
                assert server.poll() is None and time.monotonic() < deadline, output.read_text()[-3000:]
                time.sleep(0.3)
        assert answer.status_code == 200 and answer.json()["keys"]
    finally:
        server.terminate()
        server.wait(timeout=30)
    text = log.read_text()
    assert '"GET /lti/jwks HTTP/1.1" 200' in text
    assert SECRET not in text


# --- how many web processes `gradeloop serve` starts ------------------------------------------
# Each gunicorn process has its own database pool and holds up to `threads` connections at once.
# The old default, 2 x os.cpu_count(), gave 32 processes x 4 threads = 128 connections on a 16-core
# host (PostgreSQL allows 100 by default) and counted the host's cores inside a 2-CPU container.

def _cgroup(tmp_path, proc_line: str, files: dict[str, str]):
    root = tmp_path / "cgroup"
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text + "\n")
    root.mkdir(exist_ok=True)
    proc = tmp_path / "proc-self-cgroup"
    proc.write_text(proc_line + "\n")
    return root, proc


@pytest.fixture
def host(monkeypatch, tmp_path):
    """A fake host: `host(cpus, proc_line, files)` sets the affinity mask and the cgroup tree."""
    monkeypatch.delenv("GRADELOOP_WEB_WORKERS", raising=False)

    def make(cpus: int, proc_line: str = "0::/", files: dict | None = None):
        root, proc = _cgroup(tmp_path, proc_line, files or {})
        monkeypatch.setattr(serving, "CGROUP_ROOT", root)
        monkeypatch.setattr(serving, "PROC_CGROUP", proc)
        monkeypatch.setattr(serving.os, "sched_getaffinity", lambda pid: set(range(cpus)), raising=False)
        monkeypatch.setattr(serving.os, "cpu_count", lambda: 64)   # the host's cores: never the answer
    return make


def test_cgroup_v2_quota_smallest_along_the_path(tmp_path):
    root, proc = _cgroup(tmp_path, "0::/system.slice/gradeloop.service",
                         {"cpu.max": "max 100000", "system.slice/cpu.max": "300000 100000",
                          "system.slice/gradeloop.service/cpu.max": "150000 100000"})
    assert serving.cgroup_cpu_limit(root, proc) == 1.5
    root, proc = _cgroup(tmp_path / "b", "0::/", {"cpu.max": "max 100000"})
    assert serving.cgroup_cpu_limit(root, proc) is None


def test_cgroup_v1_quota(tmp_path):
    files = {"cpu,cpuacct/docker/abc/cpu.cfs_quota_us": "200000",
             "cpu,cpuacct/docker/abc/cpu.cfs_period_us": "100000",
             "cpu,cpuacct/cpu.cfs_quota_us": "-1", "cpu,cpuacct/cpu.cfs_period_us": "100000"}
    root, proc = _cgroup(tmp_path, "4:cpu,cpuacct:/docker/abc\n2:cpuacct:/\n0::/", files)
    assert serving.cgroup_cpu_limit(root, proc) == 2.0
    root, proc = _cgroup(tmp_path / "b", "4:cpu,cpuacct:/", {"cpu,cpuacct/cpu.cfs_quota_us": "-1",
                                                            "cpu,cpuacct/cpu.cfs_period_us": "100000"})
    assert serving.cgroup_cpu_limit(root, proc) is None


def test_default_counts_the_cpus_this_process_may_use(host):
    host(16)
    assert serving.available_cpus() == 16
    assert serving.gunicorn_options("0.0.0.0", 8000)["workers"] == serving.WEB_WORKERS_CAP == 8   # was 32
    host(16, "0::/", {"cpu.max": "150000 100000"})          # docker --cpus 1.5 on a 16-core host
    assert serving.available_cpus() == 2 and serving.default_web_workers() == 4
    host(1)
    assert serving.default_web_workers() == 2


@pytest.mark.parametrize("cpus", [1, 2, 4, 8, 16, 64, 256])
def test_default_stays_within_postgres_connections(host, cpus):
    host(cpus)
    options = serving.gunicorn_options("0.0.0.0", 8000)
    # one web container's share of PostgreSQL's default max_connections=100 (docs/operations.md)
    assert options["workers"] * options["threads"] <= 32


def test_workers_flag_and_environment_override(host, monkeypatch):
    host(16)
    monkeypatch.setenv("GRADELOOP_WEB_WORKERS", "12")
    assert serving.gunicorn_options("0.0.0.0", 8000)["workers"] == 12
    assert serving.gunicorn_options("0.0.0.0", 8000, workers=3)["workers"] == 3
    monkeypatch.setenv("GRADELOOP_WEB_WORKERS", "lots")
    with pytest.raises(ValueError, match="GRADELOOP_WEB_WORKERS.*'lots'"):
        serving.gunicorn_options("0.0.0.0", 8000)


def test_version_is_gradeloops():
    from click.testing import CliRunner

    from lti_app.cli import main

    answer = CliRunner().invoke(main, ["--version"])
    assert answer.exit_code == 0 and answer.output.startswith("gradeloop, version 0.1.0"), answer.output


def test_worker_refuses_a_database_that_is_empty_or_behind(tmp_path):
    """Before, `gradeloop worker` started on any database and every job failed on a missing table,
    retried and ended as a dead letter; now it stops at once and says which command fixes it."""
    from flask_migrate import downgrade, upgrade

    env = {k: v for k, v in os.environ.items() if not k.startswith("GRADELOOP_")}
    env.update(GRADELOOP_DATA_DIR=str(tmp_path), GRADELOOP_DATABASE_URL=f"sqlite:///{tmp_path / 'empty.db'}",
               GRADELOOP_BROKER_URL="memory://", GRADELOOP_SECRET_KEY="x")
    empty = subprocess.run([sys.executable, "-m", "lti_app.cli", "worker"], cwd=ROOT, env=env,
                           capture_output=True, text=True, timeout=120)
    assert empty.returncode != 0 and "The database is empty: run `gradeloop db upgrade` first." in empty.stderr
    listed = subprocess.run([sys.executable, "-m", "lti_app.cli", "platform", "list"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)   # any command: words, no traceback
    assert listed.returncode == 1 and "run `gradeloop db upgrade` first" in listed.stderr
    assert "Traceback" not in listed.stderr

    from lti_app import create_app

    app = create_app(env="test", data_dir=str(tmp_path / "old"), secret_key="x", broker_url="memory://",
                     database_url=f"sqlite:///{tmp_path / 'old.db'}")
    with app.app_context():
        upgrade()
        downgrade(revision="-1")
        assert "missing migration" in serving.schema_problem()
        upgrade()
        assert serving.schema_problem() is None


def test_a_database_migrated_by_a_newer_release_is_named_as_such(tmp_path):
    """A release rolled back without downgrading the database: "run `db upgrade`" (what it said
    before) fails with "Can't locate revision", so the message says a newer release migrated it."""
    from flask_migrate import upgrade

    from lti_app import create_app
    from lti_app.extensions import db

    app = create_app(env="test", data_dir=str(tmp_path / "d"), secret_key="x", broker_url="memory://",
                     database_url=f"sqlite:///{tmp_path / 'newer.db'}")
    with app.app_context():
        upgrade()
        with db.engine.begin() as conn:
            conn.exec_driver_sql("UPDATE alembic_version SET version_num = '0099_from_the_future'")
        problem = serving.schema_problem()
        assert "migrated by a newer release" in problem and "0099_from_the_future" in problem
        assert "db upgrade" not in problem
