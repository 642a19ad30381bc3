"""`gradeloop run` for real: migrations, sandbox registration, gunicorn web, worker and the
sandbox LMS as processes; a student launch through the sandbox UI; a clean stop on SIGINT."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import requests

from lti_app.devrun import run_all
from lti_app.sandbox.forms import find_form
from tests.conftest import ROOT


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def test_run_refuses_production(monkeypatch, capsys):
    monkeypatch.setenv("GRADELOOP_ENV", "production")
    assert run_all(port=free_port(), sandbox_port=free_port()) == 2
    assert "refusing to run in production" in capsys.readouterr().err


def test_run_starts_everything_launches_and_stops_cleanly(tmp_path):
    port, sandbox_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRADELOOP_")}
    env.update(GRADELOOP_DATA_DIR=str(tmp_path), GRADELOOP_ENV="development")
    log = open(tmp_path / "run.log", "w+")
    proc = subprocess.Popen([sys.executable, "-m", "lti_app.cli", "run", "--port", str(port),
                             "--sandbox-port", str(sandbox_port)], cwd=ROOT, env=env, stdout=log,
                            stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 90
        while "Press Ctrl-C" not in (tmp_path / "run.log").read_text() and proc.poll() is None:
            assert time.monotonic() < deadline, (tmp_path / "run.log").read_text()[-3000:]
            time.sleep(0.3)
        output = (tmp_path / "run.log").read_text()
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
        log.close()
    assert code == 0, (tmp_path / "run.log").read_text()[-3000:]
    assert not port_open(port) and not port_open(sandbox_port)


def _form(response, field):
    form = find_form(response.text, response.url, with_field=field)
    assert form is not None, response.text[:500]
    return form.action, form.fields


def test_run_says_when_the_sandbox_port_is_taken(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("GRADELOOP_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("GRADELOOP_ENV", "development")
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        assert run_all(port=free_port(), sandbox_port=busy.getsockname()[1]) == 2
    assert "--sandbox-port" in capsys.readouterr().err
