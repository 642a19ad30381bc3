"""`gradeloop serve` (gunicorn) for real: it migrates on request, serves, and its access log never
holds the launch token that travels in URLs inside LMS iframes."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import requests

from tests.conftest import ROOT

SECRET = "lt-SECRET-launch-token"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_served_app_logs_paths_without_launch_tokens(tmp_path):
    port, log = _free_port(), tmp_path / "access.log"
    env = {**os.environ, "GRADELOOP_DATA_DIR": str(tmp_path / "data"), "GRADELOOP_ENV": "development",
           "GRADELOOP_ACCESS_LOG": str(log)}
    server = subprocess.Popen([sys.executable, "-m", "lti_app.cli", "serve", "--migrate", "--port", str(port),
                               "--workers", "1", "--threads", "1"], cwd=ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
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
                assert server.poll() is None and time.monotonic() < deadline, server.stdout.read()
                time.sleep(0.3)
        assert answer.status_code == 200 and answer.json()["keys"]
    finally:
        server.terminate()
        server.wait(timeout=30)
    text = log.read_text()
    assert '"GET /lti/jwks HTTP/1.1" 200' in text
    assert SECRET not in text
