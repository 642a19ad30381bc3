"""LTI launch throughput: full round trips (OIDC login + launch) per second against
`gradeloop serve` (gunicorn, 2 workers) on loopback, SQLite in a temp data dir by default.

The platform side is simulated in this process: a JWKS served over HTTP (fetched once by the
tool, then cached), and id_tokens signed between the two timed phases, so the measured cost is
the tool's. First `--users` students of one course launch once (first launches: their User and
CourseRole rows are created), then `--launches` more launches cycle through them (returning
students, the everyday case). Baseline in the same run: `/healthz` (one database round trip).

    .venv/bin/python benchmarks/launch_bench.py --launches 600 --users 200 --concurrency 8
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlparse

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
CLIENT_ID, DEPLOYMENT = "bench-client", "bench-deployment"
LTI = "https://purl.imsglobal.org/spec/lti/claim/"


def start_platform_jwks(key) -> tuple[ThreadingHTTPServer, str]:
    jwk = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
    jwk.update(kid="bench-kid", alg="RS256", use="sig")
    body = json.dumps({"keys": [jwk]}).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}"


def run(cmd, env):
    subprocess.run(cmd, env=env, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)


def wait_ready(port: int, timeout: float = 60) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("gradeloop serve did not start")


class Browser:
    """One keep-alive connection and one cookie jar (enough for these two endpoints)."""

    def __init__(self, port: int):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.cookies: dict[str, str] = {}

    def request(self, method, path, body=None):
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        self.conn.request(method, path, body=body, headers=headers)
        resp = resp_ = self.conn.getresponse()
        resp.read()
        for header in resp_.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            self.cookies[name] = rest.split(";", 1)[0]
        return resp


def timed(fn, items, concurrency):
    start = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        results = list(pool.map(fn, items))
    return time.perf_counter() - start, results


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--launches", type=int, default=600)
    ap.add_argument("--users", type=int, default=200)
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--threads", type=int, default=4)
    ap.add_argument("--port", type=int, default=8931)
    ap.add_argument("--database-url", default="", help="default: SQLite in the temp data dir")
    args = ap.parse_args()

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwks_server, platform = start_platform_jwks(key)
    tool = f"http://127.0.0.1:{args.port}"
    data = tempfile.mkdtemp(prefix="gl-launch-bench-")
    env = {**os.environ, "GRADELOOP_DATA_DIR": data, "GRADELOOP_PUBLIC_URL": tool,
           "GRADELOOP_SECRET_KEY": secrets.token_hex(16), "GRADELOOP_ENV": "development",
           # `gradeloop serve` imports the repo-root wsgi.py, which a console script does not see.
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    if args.database_url:
        env["GRADELOOP_DATABASE_URL"] = args.database_url
    gl = str(VENV_BIN / "gradeloop")
    run([gl, "upgrade-db"], env)
    run([gl, "platform", "add", "--issuer", platform, "--client-id", CLIENT_ID, "--deployment-id", DEPLOYMENT,
         "--auth-login-url", platform + "/auth", "--auth-token-url", platform + "/token",
         "--key-set-url", platform + "/jwks"], env)
    server = subprocess.Popen(["taskset", "-c", "0,1", gl, "serve", "--port", str(args.port),
                               "--workers", str(args.workers), "--threads", str(args.threads)],
                              env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True)
    try:
        wait_ready(args.port)
        local = threading.local()

        def browser() -> Browser:
            if not hasattr(local, "b"):
                local.b = Browser(args.port)
            return local.b

        def login(i: int):
            b = Browser(args.port)   # each launch: a new person with a fresh cookie jar
            b.conn = browser().conn  # ...over this thread's keep-alive connection
            query = urlencode({"iss": platform, "login_hint": f"student-{i}", "client_id": CLIENT_ID,
                               "target_link_uri": tool + "/lti/launch", "lti_message_hint": str(i),
                               "lti_deployment_id": DEPLOYMENT})
            resp = b.request("GET", "/lti/login?" + query)
            assert resp.status == 302, resp.status
            q = parse_qs(urlparse(resp.getheader("Location")).query)
            return i, b, q["state"][0], q["nonce"][0]

        def sign(item):
            i, b, state, nonce = item
            now = int(time.time())
            claims = {"iss": platform, "aud": CLIENT_ID, "azp": CLIENT_ID, "sub": f"student-{i}",
                      "exp": now + 600, "iat": now, "nonce": nonce, "name": f"Student {i}",
                      LTI + "message_type": "LtiResourceLinkRequest", LTI + "version": "1.3.0",
                      LTI + "deployment_id": DEPLOYMENT,
                      LTI + "roles": ["http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"],
                      LTI + "context": {"id": "course-1", "title": "Bench course"},
                      LTI + "resource_link": {"id": "rl-1", "title": "Essay 1"}}
            token = jwt.encode(claims, key, algorithm="RS256", headers={"kid": "bench-kid"})
            return b, urlencode({"id_token": token, "state": state})

        def launch(item):
            b, body = item
            b.conn = browser().conn
            resp = b.request("POST", "/lti/launch", body)
            assert resp.status == 303, resp.status
            return resp.status

        def health(_):
            return browser().request("GET", "/healthz").status

        def round_trips(users: list[int]) -> tuple[float, float]:
            t_login, logins = timed(login, users, args.concurrency)
            signed = [sign(x) for x in logins]             # the platform's work: not timed
            t_launch, _ = timed(launch, signed, args.concurrency)
            return t_login, t_launch

        timed(health, range(100), args.concurrency)
        t_health, _ = timed(health, range(args.launches), args.concurrency)
        health_rate = args.launches / t_health
        store = args.database_url.split(":")[0] if args.database_url else "SQLite (embedded default)"
        print(f"gunicorn {args.workers} workers x {args.threads} threads on 2 cores, concurrency "
              f"{args.concurrency}, {store}")
        phases = (("first launches", list(range(args.users))),
                  ("returning launches", [i % args.users for i in range(args.launches)]))
        for name, users in phases:
            t_login, t_launch = round_trips(users)
            n = len(users)
            rate = n / (t_login + t_launch)
            print(f"{name} ({n}): login {n / t_login:.1f} req/s, launch {n / t_launch:.1f} req/s -> "
                  f"{rate:.1f} launches/s (login + launch); {health_rate / rate:.1f}x a /healthz request")
        print(f"baseline /healthz: {health_rate:.1f} req/s")
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        jwks_server.shutdown()


if __name__ == "__main__":
    main()
