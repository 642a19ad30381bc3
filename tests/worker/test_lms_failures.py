"""The LMS answers 5xx, times out or refuses: retried with exponential backoff, then dead-lettered
with the reason; the DeadLetter row is visible (CLI), and a requeue after the LMS recovers
delivers exactly once. A real HTTP server on loopback plays the LMS."""
from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

import tests.worker.plugins as plugins
from lti_app.events import record_event
from lti_app.extensions import db
from lti_app.models import DeadLetter
from tests.worker.conftest import running_worker, wait_for
from worker.deadletters import requeue

TRANSPORTS = ["embedded", pytest.param("rabbitmq", marks=pytest.mark.rabbitmq)]


class FakeLms:
    """Answers `mode` (an HTTP status, or "slow" = sleep past the client's timeout) and logs calls."""

    def __init__(self):
        self.mode: int | str = 200
        self.calls: list[tuple[float, str, int | str]] = []
        self.accepted: list[str] = []
        lms = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                mode = lms.mode
                lms.calls.append((time.monotonic(), body["key"], mode))
                if mode == "slow":
                    time.sleep(2.5)
                    mode = 200
                elif mode == 200:
                    lms.accepted.append(body["key"])
                text = b"user is not gradable" if mode == 422 else b"{}"
                self.send_response(mode)
                self.send_header("Content-Length", str(len(text)))
                self.end_headers()
                self.wfile.write(text)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/scores"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def lms():
    server = FakeLms()
    yield server
    server.close()


def _dead(app):
    with app.app_context():
        return db.session.scalars(db.select(DeadLetter).order_by(DeadLetter.id)).all()


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_lms_outage_retried_then_dead_lettered_then_requeued(transport, broker_for, worker_app, lms):
    app = worker_app(broker_for(transport), GRADELOOP_RETRY_MAX_ATTEMPTS=4, GRADELOOP_RETRY_BASE_SECONDS=0.3)
    lms.mode = 503
    with app.app_context():
        record_event("probe.http", {"key": "grade-1", "url": lms.url})
        db.session.commit()
    with running_worker(app, queues=["gradebook"]):
        wait_for(lambda: _dead(app), 30, what="dead letter after the retries")
        assert [c[2] for c in lms.calls] == [503] * 4
        gaps = [b[0] - a[0] for a, b in zip(lms.calls, lms.calls[1:])]
        # backoff = 0.3 * 2^attempt * U(0.5, 1): at least 0.15, 0.3, 0.6 seconds
        assert all(gap >= 0.3 * 2 ** i * 0.5 for i, gap in enumerate(gaps)), gaps
        (dead,) = _dead(app)
        assert dead.attempts == 4 and "503" in dead.reason and dead.queue.endswith(".gradebook")

        # The teacher/admin sees it, the LMS recovers, an admin requeues it: delivered once.
        from lti_app.cli import main

        out = app.test_cli_runner().invoke(main, ["deadletters", "list"])
        assert f"{dead.id}\t" in out.output and "LMS answered 503" in out.output, out.output
        lms.mode = 200
        out = app.test_cli_runner().invoke(main, ["deadletters", "requeue", str(dead.id)])
        assert out.exit_code == 0, out.output
        wait_for(lambda: lms.accepted, 20, what="requeued grade accepted")
        time.sleep(1.0)
        assert lms.accepted == ["grade-1"]
        with app.app_context():
            assert len(plugins.effects("grade-")) == 1
            assert db.session.get(DeadLetter, dead.id).requeued_at is not None
        out = app.test_cli_runner().invoke(main, ["deadletters", "requeue", str(dead.id)])
        assert out.exit_code != 0 and "already requeued" in out.output


def test_lms_timeout_is_retried_and_4xx_dead_lettered_at_once(broker_for, worker_app, lms):
    app = worker_app(broker_for("embedded"))
    lms.mode = "slow"
    with app.app_context():
        record_event("probe.http", {"key": "slow-1", "url": lms.url})
        db.session.commit()
    with running_worker(app, queues=["gradebook"]):
        wait_for(lambda: lms.calls, 20, what="first call")
        lms.mode = 200
        with app.app_context():
            wait_for(lambda: plugins.effects("slow-"), 30, what="success after the timeout")
        assert [c[2] for c in lms.calls] == ["slow", 200]

        lms.mode = 422
        with app.app_context():
            record_event("probe.http", {"key": "refused-1", "url": lms.url})
            db.session.commit()
        (dead,) = wait_for(lambda: _dead(app), 20, what="4xx dead letter")
        time.sleep(1.0)
        assert [c[1] for c in lms.calls].count("refused-1") == 1, "a 4xx is not retried"
        assert dead.attempts == 1 and "user is not gradable" in dead.reason
