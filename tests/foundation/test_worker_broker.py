"""A worker that cannot use its broker says so. It used to keep heartbeating "connecting" while the
broker was unreachable, and `gradeloop worker-status --check` (the compose healthcheck) called it
healthy for ever; and a broker URL whose password held an unencoded "/" killed it with kombu's
"Port could not be cast to integer value", naming no setting, on every restart."""
from __future__ import annotations

import json
import re
import socket

import pytest

from tests.free_ports import held_port
from tests.worker.conftest import wait_for
from worker import health, runner
from worker.health import BROKER_UNREACHABLE
from worker.runner import WorkerProcess, run_worker


def test_connecting_turns_unreachable_after_three_beats(make_app, monkeypatch):
    app = make_app(GRADELOOP_HEARTBEAT_SECONDS=10)
    worker = WorkerProcess(app, queues=["scoring"], scheduler=False)
    clock = [1000.0]
    monkeypatch.setattr(runner.time, "monotonic", lambda: clock[0])
    assert worker.status() == "connecting"
    clock[0] += 30
    assert worker.status() == "connecting", "a broker restart takes a few seconds: still healthy"
    clock[0] += 1
    assert worker.status() == BROKER_UNREACHABLE
    worker.consumer.connected.set()
    assert worker.status() == "idle"
    worker.consumer.connected.clear()
    assert worker.status() == "connecting", "the grace period starts again at each disconnection"
    with app.app_context():
        health.beat("w1", "host-a", ["q"], "connecting")
        assert health.is_healthy("host-a", 30)
        health.beat("w1", "host-a", ["q"], BROKER_UNREACHABLE)
        assert not health.is_healthy("host-a", 30), "fresh heartbeats, but the worker does no work"


def test_healthcheck_fails_while_the_broker_is_unreachable(make_app):
    from lti_app.cli import main

    with held_port() as closed:   # bound here and not listening: connecting is refused at once
        app = make_app(broker_url=f"amqp://gradeloop:pw@127.0.0.1:{closed}//", GRADELOOP_HEARTBEAT_SECONDS=0.3)
        cli = app.test_cli_runner()
        worker = WorkerProcess(app, queues=["scoring"], scheduler=False)
        thread = worker.start_thread()
        try:
            wait_for(lambda: cli.invoke(main, ["worker-status", "--check"]).exit_code == 1
                     and BROKER_UNREACHABLE in cli.invoke(main, ["worker-status"]).output, 15,
                     what="the healthcheck to fail")
            (row,) = json.loads(cli.invoke(main, ["worker-status", "--json"]).output)["workers"]
            assert row["status"] == BROKER_UNREACHABLE, "still beating: not stale, but unhealthy"
        finally:
            worker.stop()
            thread.join(30)
    assert not thread.is_alive()


def test_an_unencoded_password_names_the_setting(make_app):
    app = make_app(broker_url="amqp://gradeloop:s3cr/et9@rabbitmq:5672//")
    with pytest.raises(SystemExit) as stopped:
        run_worker(app, queues=["scoring"])
    message = str(stopped.value.code)
    assert message.startswith("gradeloop worker: GRADELOOP_BROKER_URL cannot be parsed")
    assert "URL-encode the password" in message and "openssl rand -hex 24" in message
    assert "s3cr" not in message and "et9" not in message, "no part of the password in the log"


def test_a_failed_check_says_why_on_stderr(make_app):
    """`worker-status --check` exited 1 in silence: right for the docker healthcheck, which reads
    the exit code, but an administrator who typed it learned nothing (walk3 #8)."""
    from lti_app.cli import main

    app = make_app()
    cli = app.test_cli_runner()
    host = socket.gethostname()
    none = cli.invoke(main, ["worker-status", "--check"])
    assert none.exit_code == 1 and none.stdout == ""
    assert none.stderr == (f"no healthy worker on host {host} (no worker there has reported); "
                           "see `gradeloop worker-status`\n")
    with app.app_context():
        health.beat("elsewhere:1", "another-host", ["q"], "idle")
        health.beat(f"{host}:1", host, ["q"], BROKER_UNREACHABLE)
    failed = cli.invoke(main, ["worker-status", "--check"])
    assert failed.exit_code == 1 and failed.stdout == ""
    assert re.fullmatch(rf"no healthy worker on host {re.escape(host)} \(its workers: {re.escape(host)}:1 "
                        rf"{BROKER_UNREACHABLE}, last seen [\d.]+s ago\); see `gradeloop worker-status`\n",
                        failed.stderr), failed.stderr
    with app.app_context():
        health.beat(f"{host}:2", host, ["q"], "idle")
    healthy = cli.invoke(main, ["worker-status", "--check"])
    assert healthy.exit_code == 0 and healthy.output == ""
