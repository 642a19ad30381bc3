"""Worker plugin for the test suite (`GRADELOOP_WORKER_PLUGINS=tests.worker.plugins`): probe events.

`probe.work` (scoring queue) records one `probe_effects` row in the handler's transaction, after
optionally touching a "started" file and sleeping (to be killed mid-job) or failing its first
`fail_times` deliveries. `probe.http` (gradebook queue) POSTs to a real local HTTP server and
maps 5xx/timeouts to retries and 4xx to a dead letter, like the LMS client does. Counting
effect rows per key is how tests see "exactly once".
"""
from __future__ import annotations

import time
from pathlib import Path

import requests
import sqlalchemy as sa
from marshmallow import Schema, fields

from lti_app.events import register_event_type
from lti_app.extensions import db
from worker.errors import PermanentError, RetryableError
from worker.handlers import handles

metadata = sa.MetaData()
probe_effects = sa.Table(
    "probe_effects", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("key", sa.String(200), index=True),
    sa.Column("message_id", sa.String(64)),
    sa.Column("worker_id", sa.String(200)),
    sa.Column("attempt", sa.Integer),
)


class ProbeWork(Schema):
    key = fields.String(required=True)
    sleep = fields.Float(load_default=0.0)
    started_dir = fields.String(load_default=None, allow_none=True)
    fail_times = fields.Integer(load_default=0)
    permanent = fields.Boolean(load_default=False)
    assignment_id = fields.Integer(load_default=None, allow_none=True)


class ProbeHttp(Schema):
    key = fields.String(required=True)
    url = fields.String(required=True)
    assignment_id = fields.Integer(load_default=None, allow_none=True)


register_event_type("probe.work", ProbeWork, "scoring")
register_event_type("probe.http", ProbeHttp, "gradebook")


def ensure_tables(engine) -> None:
    metadata.create_all(engine)


def effects(key_prefix: str = "") -> list[dict]:
    rows = db.session.execute(sa.select(probe_effects).where(probe_effects.c.key.startswith(key_prefix))
                              .order_by(probe_effects.c.id)).mappings().all()
    return [dict(r) for r in rows]


def _effect(job) -> None:
    db.session.execute(probe_effects.insert().values(key=job.payload["key"], message_id=job.message_id,
                                                     worker_id=job.worker_id, attempt=job.attempt))


@handles("probe.work")
def probe_work(job) -> None:
    p = job.payload
    if p["started_dir"]:
        Path(p["started_dir"], f"{p['key']}.{job.worker_id.replace(':', '_').replace('/', '_')}").touch()
    if p["sleep"]:
        time.sleep(p["sleep"])
    if p["permanent"]:
        raise PermanentError(f"probe {p['key']} refuses")
    if job.attempt < p["fail_times"]:
        raise RetryableError(f"probe {p['key']} fails attempt {job.attempt}")
    _effect(job)


@handles("probe.http")
def probe_http(job) -> None:
    try:
        response = requests.post(job.payload["url"], json={"key": job.payload["key"], "id": job.message_id},
                                 timeout=1.5)
    except (requests.Timeout, requests.ConnectionError) as exc:
        raise RetryableError(f"LMS unreachable: {exc}") from exc
    if response.status_code >= 500:
        raise RetryableError(f"LMS answered {response.status_code}")
    if response.status_code >= 400:
        raise PermanentError(f"LMS refused ({response.status_code}): {response.text[:200]}")
    _effect(job)
