"""SIGTERM: a job that fits in the grace period finishes and is acknowledged; one that does not is
given back to the broker at once and completed by the next worker, exactly once."""
from __future__ import annotations

import signal
import time

import tests.worker.plugins as plugins
from lti_app.events import record_event
from lti_app.extensions import db
from tests.worker.conftest import wait_for, worker_env


def test_sigterm_requeues_overrunning_job_and_finishes_short_one(worker_app, broker_for, prefix,
                                                                  spawn_worker, tmp_path):
    app = worker_app(broker_for("embedded"), GRADELOOP_EMBEDDED_VISIBILITY_SECONDS=60)
    started = tmp_path / "started"
    started.mkdir()
    impatient = spawn_worker(worker_env(app, prefix, GRADELOOP_SHUTDOWN_GRACE_SECONDS=0.5), name="impatient")
    with app.app_context():
        record_event("probe.work", {"key": "term-1", "sleep": 4.0, "started_dir": str(started)})
        db.session.commit()
    wait_for(lambda: list(started.iterdir()), 60, what="job started")
    t0 = time.monotonic()
    impatient.send_signal(signal.SIGTERM)
    assert impatient.wait(20) == 0, impatient.log_path.read_text()[-3000:]
    assert time.monotonic() - t0 < 3.5, "did not wait for the 4 s job"
    log = impatient.log_path.read_text()
    assert "event=shutdown_requeue unfinished=1" in log

    # The message is back at once (not after the 60 s visibility timeout): the next worker runs it,
    # and this one has a grace long enough to finish it when it is stopped mid-job.
    patient = spawn_worker(worker_env(app, prefix, GRADELOOP_SHUTDOWN_GRACE_SECONDS=15), name="patient")
    wait_for(lambda: len(list(started.iterdir())) == 2, 30, what="job restarted by the next worker")
    patient.send_signal(signal.SIGTERM)
    assert patient.wait(30) == 0, patient.log_path.read_text()[-3000:]
    with app.app_context():
        effects = plugins.effects("term-")
        assert len(effects) == 1 and str(patient.pid) in effects[0]["worker_id"]
