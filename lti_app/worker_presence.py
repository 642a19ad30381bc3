"""Whether a healthy Gradeloop worker takes a kind of work now, read from the workers' heartbeat
rows, so that the teacher's pages promise that Gradeloop "keeps sending" a grade (or scores new
essays, or trains) only while some worker does.

A worker serves the queues it was started with (`gradeloop worker --queues ...`; all of them
without the option) and writes them into its row every `GRADELOOP_HEARTBEAT_SECONDS`
(`worker.health`). A row counts while it is fresh and healthy, as for `gradeloop worker-status
--check` (`worker.health.healthy`): so a GPU box serving only `training` beside another worker
serving the rest covers every kind, and either one alone leaves the other's kinds unserved. Queue
names carry `GRADELOOP_QUEUE_PREFIX`, so a test's or benchmark's worker beside the school's on
another prefix serves nothing here.

Unlike the healthcheck, a worker that stopped still counts while its row is fresh (three beats): a
deploy or `docker compose restart worker` stops the old process, whose last beat says "stopped",
and the new one's first beat follows within seconds. Meanwhile teachers' pages must not say that a
grade is held until an administrator starts the worker, nor a student's that the teacher grades the
essay. A worker stopped for good is taken for gone three beats later.

Every worker runs the outbox relay (`worker.scheduler`), so a healthy worker on any queue also
publishes the others' messages: they wait on the broker for a consumer, which is what "unserved"
means. The web reads `GRADELOOP_HEARTBEAT_SECONDS` too: give web and worker the same value (a web
that expects beats more often than the worker sends them would see it stale between beats). Beats
are written and judged by the database's clock (`worker.health.database_now`), so web and worker
hosts whose clocks differ still agree.

One query per request (kept in `flask.g`), on a table of one row per worker process started in the
last week; imports nothing of the worker but its torch-free health and settings modules.
"""
from __future__ import annotations

import logging

from flask import current_app, g, has_request_context
from sqlalchemy import select

from lti_app.extensions import db
from lti_app.models import WorkerHeartbeat

log = logging.getLogger(__name__)

SCORING, TRAINING, GRADEBOOK = "scoring", "training", "gradebook"   # worker.topology.WORK_QUEUES


def _settings() -> tuple[str, float]:
    """(queue prefix, seconds after which a row is stale) as the worker reads them."""
    from worker.health import STALE_BEATS
    from worker.settings import WorkerSettings

    try:
        settings = WorkerSettings.from_app(current_app)
    except ValueError as exc:
        # A worker knob the worker itself refuses (it will not start on it): the pages still
        # render, judged with the defaults.
        log.warning("event=worker_settings_unreadable error=%s", exc)
        settings = WorkerSettings(broker_url="")
    return settings.prefix, STALE_BEATS * settings.heartbeat_seconds


def served() -> frozenset[str]:
    """The kinds of work (`SCORING`, `TRAINING`, `GRADEBOOK`) that a healthy worker takes now."""
    if has_request_context() and "gradeloop_served" in g:
        return g.gradeloop_served
    from worker.health import healthy
    from worker.topology import WORK_QUEUES, Topology

    prefix, stale_after = _settings()
    topology = Topology(prefix)
    kinds = {topology.queue_name(kind): kind for kind in WORK_QUEUES}
    found: set[str] = set()
    rows = select(WorkerHeartbeat.queues).where(healthy(stale_after, stopped_counts=True))
    for queues in db.session.scalars(rows):
        found.update(kinds[name] for name in (queues or kinds) if name in kinds)
    result = frozenset(found)
    if has_request_context():
        g.gradeloop_served = result
    return result


def serves(kind: str) -> bool:
    """Whether a healthy worker takes `kind` of work now."""
    return kind in served()
