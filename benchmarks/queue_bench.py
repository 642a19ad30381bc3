"""Worker throughput: N `submission.created` events through the transactional outbox, the relay
(publisher confirms) and the consumer (late ack, idempotency row per message), on RabbitMQ and
PostgreSQL by default. Checks that none is lost and none is processed twice, and prints events/s.

Every event is a real submission of an assignment without a promoted model yet, so the scoring
handler runs its database checks and acknowledges: what is measured is the messaging path.
Baseline in the same run (before and after): the same handler + idempotency row + commit called
directly in one thread, no broker; the ratio says what the messaging path adds or, with
concurrency, wins back.

    .venv/bin/python benchmarks/queue_bench.py --events 10000 --concurrency 4
    .venv/bin/python benchmarks/queue_bench.py --events 2000 --broker sqla+sqlite:///TMP/broker.db --database sqlite
"""
from __future__ import annotations

import argparse
import collections
import os
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from lti_app import create_app  # noqa: E402
from lti_app.events import envelope  # noqa: E402
from lti_app.extensions import db  # noqa: E402
from lti_app.models import (Assignment, Course, DeadLetter, OutboxEvent, Platform, ProcessedMessage,  # noqa: E402
                            Submission)
from tests.scratch_postgres import drop_database  # noqa: E402


def scratch_postgres(base: str) -> tuple[str, callable]:
    name = f"gl_bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))

    def drop():
        drop_database(admin, name)
        admin.dispose()
    return base.rsplit("/", 1)[0] + "/" + name, drop


def make_submissions(n: int) -> tuple[Assignment, list[int]]:
    platform = Platform(issuer="https://bench.example", client_id="bench", auth_login_url="https://bench.example/a",
                        auth_token_url="https://bench.example/t", key_set_url="https://bench.example/k")
    db.session.add(platform)
    db.session.flush()
    course = Course(platform_id=platform.id, context_id="bench")
    db.session.add(course)
    db.session.flush()
    assignment = Assignment(course_id=course.id, title="Bench essay")
    db.session.add(assignment)
    db.session.flush()
    db.session.execute(sa.insert(Submission), [
        {"assignment_id": assignment.id, "text": f"essay {i}", "word_count": 2} for i in range(n)])
    db.session.commit()
    ids = db.session.scalars(sa.select(Submission.id).where(Submission.assignment_id == assignment.id)
                             .order_by(Submission.id)).all()
    return assignment, ids


def record_events(assignment, submission_ids) -> list[str]:
    """Outbox rows exactly as `record_event` writes them, inserted in bulk to keep setup quick."""
    rows, ids = [], []
    for sid in submission_ids:
        message = envelope("submission.created", {"submission_id": sid, "assignment_id": assignment.id,
                                                  "course_id": assignment.course_id})
        ids.append(message["event_id"])
        rows.append({"event_id": message["event_id"], "type": "submission.created", "routing_key": "scoring",
                     "payload": message, "attempts": 0})
    db.session.execute(sa.insert(OutboxEvent), rows)
    db.session.commit()
    return ids


def count(model, *where) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where)) or 0


def baseline(app, assignment, submission_ids, settings) -> float:
    """Handler + processed_messages commit per event, called directly: the cost without a broker."""
    from worker.handlers import HANDLERS, Job

    handler = HANDLERS["submission.created"]
    started = time.perf_counter()
    with app.app_context():
        for sid in submission_ids:
            message_id = uuid.uuid4().hex
            payload = {"submission_id": sid, "assignment_id": assignment.id, "course_id": assignment.course_id}
            db.session.get(ProcessedMessage, message_id)
            handler(Job(app=app, message_id=message_id, event_type="submission.created", payload=payload,
                        envelope={}, attempt=0, queue="bench", worker_id="bench", settings=settings))
            db.session.add(ProcessedMessage(message_id=message_id, queue="baseline"))
            db.session.commit()
        db.session.execute(sa.delete(ProcessedMessage).where(ProcessedMessage.queue == "baseline"))
        db.session.commit()
    return len(submission_ids) / (time.perf_counter() - started)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--broker", default=os.environ.get("GRADELOOP_TEST_RABBITMQ_URL",
                                                           "amqp://guest:guest@127.0.0.1:5672//"))
    parser.add_argument("--database", default=os.environ.get("GRADELOOP_TEST_POSTGRES_URL", "sqlite"),
                        help="PostgreSQL URL to create a scratch database on, or 'sqlite'")
    parser.add_argument("--baseline-events", type=int, default=1000)
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="gl-queue-bench-"))
    broker = args.broker.replace("TMP", str(tmp))
    drop = None
    if args.database == "sqlite":
        database = f"sqlite:///{tmp / 'bench.db'}"
    else:
        database, drop = scratch_postgres(args.database)
    prefix = f"bench{uuid.uuid4().hex[:6]}"
    app = create_app(env="test", data_dir=str(tmp), secret_key="bench", database_url=database, broker_url=broker,
                     GRADELOOP_QUEUE_PREFIX=prefix, GRADELOOP_RELAY_BATCH=500, GRADELOOP_RELAY_INTERVAL=0.05)
    import logging
    logging.getLogger().setLevel(logging.WARNING)

    from worker.handlers import HANDLERS, load_handlers
    from worker.runner import WorkerProcess
    from worker.settings import WorkerSettings

    load_handlers("")
    settings = WorkerSettings.from_app(app)
    calls: collections.Counter = collections.Counter()
    real = HANDLERS["submission.created"]

    def counting(job):
        calls[job.message_id] += 1
        return real(job)

    try:
        with app.app_context():
            db.create_all()
            assignment, submission_ids = make_submissions(args.events)
        sample = submission_ids[:args.baseline_events]
        base_before = baseline(app, assignment, sample, settings)
        with app.app_context():
            event_ids = record_events(assignment, submission_ids)
        HANDLERS["submission.created"] = counting
        worker = WorkerProcess(app, queues=["scoring"], concurrency=args.concurrency, settings=settings)
        started = time.perf_counter()
        thread = threading.Thread(target=worker.run, daemon=True)
        thread.start()
        relayed_at = None
        with app.app_context():
            while True:
                time.sleep(0.25)
                db.session.rollback()
                if relayed_at is None and count(OutboxEvent, OutboxEvent.published_at.is_(None)) == 0:
                    relayed_at = time.perf_counter()
                done = count(ProcessedMessage)
                if done >= args.events or time.perf_counter() - started > 1800:
                    break
            elapsed = time.perf_counter() - started
            worker.stop()
            thread.join(60)
            processed = set(db.session.scalars(sa.select(ProcessedMessage.message_id)).all())
            dead = count(DeadLetter)
        HANDLERS["submission.created"] = real
        # Measured again after the run: on a shared machine the load changes during a long run.
        base_after = baseline(app, assignment, sample, settings)
        base_rate = (base_before + base_after) / 2
        lost = len(set(event_ids) - processed)
        twice = sum(1 for c in calls.values() if c > 1)
        rate = args.events / elapsed
        print(f"broker={broker.split('://')[0]} database={sa.engine.make_url(database).get_backend_name()} "
              f"events={args.events} concurrency={args.concurrency}")
        print(f"relay (outbox -> broker, confirms): {args.events / ((relayed_at or time.perf_counter()) - started):.0f} events/s")
        print(f"end to end (outbox -> handler committed -> ack): {rate:.0f} events/s in {elapsed:.1f} s")
        print(f"baseline (same handler + idempotency row + commit, called directly, one thread): "
              f"{base_before:.0f} before / {base_after:.0f} after events/s; "
              f"messaging path = {rate / base_rate:.2f}x of baseline")
        print(f"lost={lost} processed_twice={twice} handler_calls={sum(calls.values())} dead_letters={dead}")
        return 0 if lost == 0 and twice == 0 and dead == 0 else 1
    finally:
        from tests.worker.conftest import _delete_topology  # noqa: PLC0415  (same cleanup as the tests)

        _delete_topology(broker, prefix)
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        if drop:
            drop()


if __name__ == "__main__":
    sys.exit(main())
