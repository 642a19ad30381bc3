"""`gradeloop run` (what `make run` starts): the whole product on one machine for development.

Applies migrations to the embedded database, registers the sandbox LMS in it, then runs the tool
web app (gunicorn, subprocess), the worker (subprocess; logged if it exits) and the sandbox LMS
(a thread here), prints the URLs an LMS admin needs, and stops everything on Ctrl-C or SIGTERM.
"""
from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests

from config import load_config
from lti_app.demo import seed_demo_assignment

log = logging.getLogger("gradeloop.run")

SANDBOX_CLIENT_ID = "gradeloop-sandbox-client"
SANDBOX_DEPLOYMENT_ID = "sandbox-deployment-1"


def tool_base_url(host: str, port: int) -> str:
    """The tool's URL as browsers use it. Loopback binds are named `localhost` so the tool is a
    different site from the sandbox LMS on 127.0.0.1 (like a real LMS and tool)."""
    if host in ("127.0.0.1", "0.0.0.0", "localhost", "::", "::1"):
        return f"http://localhost:{port}"
    return f"http://{host}:{port}"


def admin_urls(tool_url: str, sandbox_url: str) -> list[tuple[str, str]]:
    return [
        ("OIDC login initiation URL", f"{tool_url}/lti/login"),
        ("Launch / redirect URL", f"{tool_url}/lti/launch"),
        ("Tool public key set (JWKS)", f"{tool_url}/lti/jwks"),
        ("Dynamic registration URL", f"{tool_url}/lti/register"),
        ("Canvas JSON configuration", f"{tool_url}/lti/canvas.json"),
        ("Sandbox LMS (open this)", f"{sandbox_url}/"),
        ("Sandbox dynamic registration", f"{sandbox_url}/admin/register"),
    ]


def _prepare_database(tool_url: str):
    """Migrations + the sandbox platform's registration; returns the tool app (for its config)."""
    from lti_app import create_app
    from lti_app.serving import upgrade_database

    app = create_app(public_url=tool_url)
    with app.app_context():
        upgrade_database()
    return app


def _bind_sandbox(data_dir: Path, tool_url: str, sandbox_port: int):
    """The sandbox LMS, bound to its port (not serving yet) with its demo course."""
    from lti_app.sandbox.keys import KeyRing, load_or_create_key
    from lti_app.sandbox.platform import SandboxPlatform
    from lti_app.sandbox.ui import seed_demo

    folder = data_dir / "sandbox"
    key = load_or_create_key(folder / "platform_key.pem")
    sandbox = SandboxPlatform(tool_url, client_id=SANDBOX_CLIENT_ID, deployment_id=SANDBOX_DEPLOYMENT_ID,
                              host="127.0.0.1", port=sandbox_port, keys=KeyRing(first=key), quiet=False,
                              persist_path=folder / "state.json")
    seed_demo(sandbox.state)
    return sandbox


def _spawn(name: str, args: list[str], env: dict) -> subprocess.Popen:
    log.info("starting %s: %s", name, " ".join(args))
    # Own process group, so a terminal Ctrl-C reaches us first and we stop children in order.
    return subprocess.Popen([sys.executable, "-m", "lti_app.cli", *args], env=env, start_new_session=True)


def _wait_healthy(url: str, proc: subprocess.Popen, timeout: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if requests.get(url + "/healthz", timeout=2).status_code == 200:
                return True
        except requests.RequestException:
            pass
        time.sleep(0.3)
    return False


def _stop(procs: dict[str, subprocess.Popen]) -> None:
    for name, proc in procs.items():
        if proc.poll() is None:
            log.info("stopping %s (pid %s)", name, proc.pid)
            os.killpg(proc.pid, signal.SIGTERM)
    for name, proc in procs.items():
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            log.warning("%s did not stop in 15 s; killing it", name)
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def run_all(host: str = "127.0.0.1", port: int = 8000, sandbox_port: int = 8100) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    if os.environ.get("GRADELOOP_ENV") == "production":
        print("gradeloop run: refusing to run in production (GRADELOOP_ENV=production); it starts a "
              "sandbox LMS. Use `gradeloop serve` and `gradeloop worker`.", file=sys.stderr)
        return 2
    tool_url = os.environ.get("GRADELOOP_PUBLIC_URL") or tool_base_url(host, port)
    # Bind the sandbox port first: a busy port is reported before anything is migrated.
    try:
        sandbox = _bind_sandbox(load_config(public_url=tool_url).data_dir, tool_url, sandbox_port)
    except OSError as exc:
        print(f"gradeloop run: cannot start the sandbox LMS on 127.0.0.1:{sandbox_port} ({exc}); "
              "choose another port with --sandbox-port", file=sys.stderr)
        return 2
    except ValueError as exc:
        print(f"gradeloop run: {exc}", file=sys.stderr)
        return 2
    try:
        app = _prepare_database(tool_url)
        seed_demo_assignment(app, sandbox.register_in_tool(app))
    except (RuntimeError, OSError, ValueError) as exc:
        sandbox.stop()
        print(f"gradeloop run: cannot prepare the database: {exc}", file=sys.stderr)
        return 2
    sandbox.start()
    env = {**os.environ, "GRADELOOP_DATA_DIR": app.config["GRADELOOP_DATA_DIR"], "GRADELOOP_PUBLIC_URL": tool_url}
    procs = {"web": _spawn("web", ["serve", "--host", host, "--port", str(port), "--workers", "2"], env)}
    procs["worker"] = _spawn("worker", ["worker"], env)
    stop = threading.Event()

    def _on_signal(signum, frame):
        stop.set()

    previous = {sig: signal.signal(sig, _on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    code = 0
    try:
        if not _wait_healthy(tool_url, procs["web"]):
            print("gradeloop run: the web app did not start; see the log above", file=sys.stderr)
            return 1
        print("\nGradeloop is running (development only).")
        for label, url in admin_urls(tool_url, sandbox.url):
            print(f"  {label:30} {url}")
        print(f"\nOpen the sandbox LMS at {sandbox.url}/ and launch Gradeloop as the teacher or a student."
              "\nPress Ctrl-C to stop.\n", flush=True)
        worker_reported = False
        while not stop.wait(0.5):
            if procs["web"].poll() is not None:
                print(f"gradeloop run: the web app exited with {procs['web'].returncode}", file=sys.stderr)
                code = procs["web"].returncode or 1
                break
            if not worker_reported and procs["worker"].poll() is not None:
                worker_reported = True
                log.warning("the worker exited with %s; the web app and sandbox keep running "
                            "(background jobs will wait)", procs["worker"].returncode)
        return code
    finally:
        _stop(procs)
        sandbox.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
