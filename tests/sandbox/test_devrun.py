"""`gradeloop run` for real: migrations, sandbox registration, gunicorn web, worker and the
sandbox LMS as processes; a student launch through the sandbox UI; a clean stop on SIGINT."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from functools import partial

import requests

from lti_app.devrun import run_all
from lti_app.sandbox.forms import find_form
from tests.conftest import ROOT
from tests.free_ports import free_port, held_port, start_on_free_ports, wait_until_said


def port_open(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def test_run_refuses_production(monkeypatch, capsys):
    monkeypatch.setenv("GRADELOOP_ENV", "production")
    assert run_all(port=free_port(), sandbox_port=free_port()) == 2
    assert "refusing to run in production" in capsys.readouterr().err


def _run(tmp_path, port: int, sandbox_port: int):
    """`gradeloop run` on these ports, once it says it runs: (process, its log's path, the ports).
    `PortTaken` when another process took a port first; each try has a data directory of its own."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRADELOOP_")}
    env.update(GRADELOOP_DATA_DIR=str(tmp_path / f"data-{port}"), GRADELOOP_ENV="development")
    log = tmp_path / f"run-{port}.log"
    with open(log, "w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "lti_app.cli", "run", "--port", str(port),
                                 "--sandbox-port", str(sandbox_port)], cwd=ROOT, env=env, stdout=out,
                                stderr=subprocess.STDOUT)
    wait_until_said(proc, log, "Press Ctrl-C", 90)
    return proc, log, port, sandbox_port


def test_run_starts_everything_launches_and_stops_cleanly(tmp_path):
    proc, log, port, sandbox_port = start_on_free_ports(2, partial(_run, tmp_path))
    try:
        output = log.read_text()
        assert f"http://localhost:{port}/lti/jwks" in output and f"http://127.0.0.1:{sandbox_port}/" in output
        browser = requests.Session()
        page = browser.get(f"http://127.0.0.1:{sandbox_port}/courses/sandbox-course/launch",
                           params={"user_id": "student-1", "link": "essay-feedback", "window": "1"}, timeout=10)
        login = browser.post(*_form(page, "lti_message_hint"), timeout=10)   # new-window launch
        landed = browser.post(*_form(login, "id_token"), timeout=30)
        assert landed.status_code == 200 and landed.url.startswith(f"http://localhost:{port}/"), landed.text[:500]
    finally:
        proc.send_signal(signal.SIGINT)
        code = proc.wait(timeout=40)
    assert code == 0, log.read_text()[-3000:]
    assert not port_open(port) and not port_open(sandbox_port)


def _form(response, field):
    form = find_form(response.text, response.url, with_field=field)
    assert form is not None, response.text[:500]
    return form.action, form.fields


def test_run_says_when_the_sandbox_port_is_taken(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("GRADELOOP_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("GRADELOOP_ENV", "development")
    with held_port(listening=True) as busy:
        assert run_all(port=free_port(), sandbox_port=busy) == 2
    assert "--sandbox-port" in capsys.readouterr().err
