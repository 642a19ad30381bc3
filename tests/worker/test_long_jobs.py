"""A job running far longer than the embedded broker's visibility timeout stays with the worker
running it (its delivery is renewed), while a second worker is idle beside it: it runs once."""
from __future__ import annotations

import tests.worker.plugins as plugins
from lti_app.events import record_event
from lti_app.extensions import db
from tests.worker.conftest import running_worker, wait_for


def test_long_job_is_not_redelivered_to_an_idle_worker(worker_app, broker_for, tmp_path):
    app = worker_app(broker_for("embedded"), GRADELOOP_EMBEDDED_VISIBILITY_SECONDS=1.5)
    started = tmp_path / "started"
    started.mkdir()
    with running_worker(app, queues=["scoring"]), running_worker(app, queues=["scoring"]):
        with app.app_context():
            record_event("probe.work", {"key": "long-1", "sleep": 5.0, "started_dir": str(started)})
            db.session.commit()
            wait_for(lambda: plugins.effects("long-"), 30, what="long job done")
        runs = [p.name for p in started.iterdir()]
        assert len(runs) == 1, f"the job started more than once: {runs}"
