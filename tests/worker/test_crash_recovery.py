"""kill -9 a `gradeloop worker` process in the middle of a job: the job is redelivered to another
worker process and its effect is committed exactly once. On RabbitMQ (with PostgreSQL shared by
the processes) the broker redelivers when the connection dies; on the embedded broker the
message's visibility lease runs out."""
from __future__ import annotations

import os
import signal
import time

import pytest

import tests.worker.plugins as plugins
from lti_app.events import record_event
from lti_app.extensions import db
from lti_app.models import ProcessedMessage, WorkerHeartbeat
from tests.worker.conftest import wait_for, worker_env


def _kill_mid_job(app, prefix, spawn_worker, tmp_path):
    started = tmp_path / "started"
    started.mkdir()
    env = worker_env(app, prefix)
    first = spawn_worker(env, "--queues", "scoring", name="first")
    with app.app_context():
        record_event("probe.work", {"key": "crash-1", "sleep": 4.0, "started_dir": str(started)})
        db.session.commit()
    wait_for(lambda: list(started.iterdir()), 60, what="first worker started the job")
    os.kill(first.pid, signal.SIGKILL)
    first.wait(10)
    with app.app_context():
        assert plugins.effects("crash-") == [], "the killed job must not have committed"

    second = spawn_worker(env, "--queues", "scoring", name="second")
    with app.app_context():
        effects = wait_for(lambda: plugins.effects("crash-"), 60, what="job redone by the second worker")
        time.sleep(1.5)   # a duplicate delivery, if any, would land now
        effects = plugins.effects("crash-")
        assert len(effects) == 1
        assert len(list(started.iterdir())) == 2, "the job ran once in each worker"
        assert str(second.pid) in effects[0]["worker_id"]
        assert db.session.scalar(db.select(db.func.count()).select_from(ProcessedMessage)) == 1
        beats = {hb.worker_id: hb.status for hb in db.session.scalars(db.select(WorkerHeartbeat))}
        assert any(str(second.pid) in wid for wid in beats)
    second.send_signal(signal.SIGTERM)
    assert second.wait(30) == 0, second.log_path.read_text()[-3000:]
    with app.app_context():
        db.session.expire_all()
        mine = [hb for hb in db.session.scalars(db.select(WorkerHeartbeat)) if str(second.pid) in hb.worker_id]
        assert mine[0].status == "stopped"


@pytest.mark.rabbitmq
@pytest.mark.postgres
def test_kill9_mid_job_rabbitmq_postgres(pg_app, rabbitmq_url, prefix, spawn_worker, tmp_path):
    _kill_mid_job(pg_app(rabbitmq_url), prefix, spawn_worker, tmp_path)


def test_kill9_mid_job_embedded_sqlite(worker_app, broker_for, prefix, spawn_worker, tmp_path):
    _kill_mid_job(worker_app(broker_for("embedded")), prefix, spawn_worker, tmp_path)
