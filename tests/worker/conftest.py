"""Fixtures for the worker tests: apps wired to a real broker, in-process and subprocess workers.

Every test gets its own queue prefix, so it never consumes a message of another test or of a
developer's running worker on the same RabbitMQ, and its queues are deleted afterwards.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest

import tests.worker.plugins as plugins
from tests.conftest import ROOT
from tests.scratch_postgres import drop_database

FAST = {"GRADELOOP_RETRY_BASE_SECONDS": 0.2, "GRADELOOP_RETRY_MAX_SECONDS": 2.0,
        "GRADELOOP_RELAY_INTERVAL": 0.05, "GRADELOOP_HEARTBEAT_SECONDS": 1.0,
        "GRADELOOP_SCHEDULER_LEASE_SECONDS": 3.0, "GRADELOOP_EMBEDDED_VISIBILITY_SECONDS": 3.0,
        "GRADELOOP_EMBEDDED_POLLING_INTERVAL": 0.05, "GRADELOOP_SHUTDOWN_GRACE_SECONDS": 5.0}


def wait_for(predicate, timeout: float = 30.0, interval: float = 0.1, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


@pytest.fixture
def broker_for(request, tmp_path):
    """broker_for("embedded" | "embedded-postgres" | "rabbitmq") -> broker URL (the server ones
    skip/fail like their fixtures; embedded-postgres gets a scratch database)."""
    def _url(kind: str) -> str:
        if kind == "rabbitmq":
            return request.getfixturevalue("rabbitmq_url")
        if kind == "embedded":
            return f"sqla+sqlite:///{tmp_path / 'broker.db'}"
        if kind == "embedded-postgres":
            return "sqla+" + request.getfixturevalue("scratch_postgres")().replace("postgresql://",
                                                                                    "postgresql+psycopg://")
        return "memory://"
    return _url


@pytest.fixture
def scratch_postgres(request):
    """scratch_postgres() -> URL of a new empty PostgreSQL database, dropped after the test."""
    import sqlalchemy as sa

    base = request.getfixturevalue("postgres_url")
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    names = []

    def _create() -> str:
        name = f"gl_worker_{uuid.uuid4().hex[:8]}"
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        names.append(name)
        return base.rsplit("/", 1)[0] + "/" + name

    yield _create
    for name in names:
        drop_database(admin, name)
    admin.dispose()


@pytest.fixture
def prefix():
    return f"t{uuid.uuid4().hex[:10]}"


@pytest.fixture
def worker_app(make_app, prefix):
    """worker_app(broker_url, **overrides): an app with the probe tables and fast retry settings."""
    from lti_app.extensions import db

    urls = []

    def _make(broker_url: str, **overrides):
        settings = {**FAST, "GRADELOOP_QUEUE_PREFIX": prefix, **overrides}
        app = make_app(broker_url=broker_url, **settings)
        with app.app_context():
            plugins.ensure_tables(db.engine)
        urls.append(broker_url)
        return app

    yield _make
    for url in set(urls):
        _delete_topology(url, prefix)


def _delete_topology(url: str, prefix: str) -> None:
    from worker.broker import connect
    from worker.settings import WorkerSettings
    from worker.topology import Topology

    if not url.startswith("amqp"):
        return
    try:
        with connect(WorkerSettings(broker_url=url, prefix=prefix)) as conn:
            conn.ensure_connection(max_retries=3)
            Topology(prefix).delete(conn.default_channel)
    except Exception:  # cleanup only; a restarted broker may refuse for a moment
        pass


@contextmanager
def running_worker(app, **kwargs):
    from worker.runner import WorkerProcess

    worker = WorkerProcess(app, **kwargs)
    thread = worker.start_thread()
    try:
        wait_for(worker.consumer.connected.is_set, 20, what="worker connected")
        yield worker
    finally:
        worker.stop()
        thread.join(30)
        assert not thread.is_alive(), "worker did not stop"


def worker_env(app, prefix: str, **extra) -> dict:
    """Environment for a `gradeloop worker` subprocess on the same database and broker as `app`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRADELOOP_")}
    env.update({"GRADELOOP_ENV": "test", "GRADELOOP_SECRET_KEY": "test-secret",
                "GRADELOOP_DATA_DIR": app.config["GRADELOOP_DATA_DIR"],
                "GRADELOOP_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
                "GRADELOOP_BROKER_URL": app.config["GRADELOOP_BROKER_URL"],
                "GRADELOOP_QUEUE_PREFIX": prefix, "GRADELOOP_WORKER_PLUGINS": "tests.worker.plugins",
                "PYTHONPATH": str(ROOT)})
    env.update({k: str(v) for k, v in FAST.items()})
    env.update({k: str(v) for k, v in extra.items()})
    return env


@pytest.fixture
def spawn_worker(tmp_path):
    """spawn_worker(env, *args) -> Popen of `gradeloop worker`; killed at teardown if still alive."""
    procs = []

    def _spawn(env: dict, *args: str, name: str = "worker") -> subprocess.Popen:
        log = open(tmp_path / f"{name}.log", "ab")
        proc = subprocess.Popen([sys.executable, "-m", "lti_app.cli", "worker", *args], cwd=ROOT, env=env,
                                stdout=log, stderr=subprocess.STDOUT)
        proc.log_path = Path(log.name)
        procs.append(proc)
        return proc

    yield _spawn
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)


@pytest.fixture
def pg_app(worker_app, scratch_postgres):
    """pg_app(broker_url): like worker_app but on a fresh PostgreSQL database of its own."""
    url = scratch_postgres()
    return lambda broker_url, **overrides: worker_app(broker_url, database_url=url, **overrides)
