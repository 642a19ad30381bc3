"""One live course for the end-to-end auto-feedback tests (module scope, so the model trains once
per stack: SQLite + embedded broker, and PostgreSQL + RabbitMQ):

the real tool app served over HTTP, the sandbox LMS peer registered in it, an assignment the
teacher created by Deep Linking, 60 real graded PERSUADE essays imported through the teacher's CSV
import page, a course model trained on them by the ML pipeline and promoted by its gate, and a real
`gradeloop worker` subprocess on the same database and broker.
"""
from __future__ import annotations

import signal
import subprocess
import sys
import uuid
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from lti_app.demo import graded_csv, graded_rows
from tests.conftest import ROOT, SHARED_DATA
from tests.coursework.flows import create_by_deep_link, open_assignment, post_form
from tests.peer import Peer, ToolServer
from tests.worker.conftest import FAST, _delete_topology, wait_for, worker_env
from tests.scratch_postgres import drop_database

# PERSUADE prompt 0, shuffle seed 0 (the demo course's essays): the gate promotes this set (held-out
# QWK 0.86 on 20 essays). With 60 essays the gate saw 12 held-out essays and its verdict was a coin
# toss (0.74 with the 6-layer encoder, 0.67 with 4 layers: docs/benchmarks.md).
N_GRADED = 100


@dataclass
class LiveCourse:
    tool: ToolServer
    peer: Peer
    item: dict                 # the peer's content item (resource_link_id, line_item_id)
    assignment_id: int
    worker: subprocess.Popen
    log_path: Path

    def worker_log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]


def start_tool(data_dir: Path, prefix: str, broker_url: str | None = None, database_url: str | None = None,
               **settings) -> ToolServer:
    """The tool app served over HTTP, on a fresh SQLite database and the embedded broker in
    `data_dir` unless `database_url` / `broker_url` are given."""
    from lti_app import create_app
    from lti_app.extensions import db
    from lti_app.sandbox.server import ServerThread

    app = create_app(env="test", data_dir=str(data_dir), secret_key="test-secret",
                     database_url=database_url or f"sqlite:///{data_dir / 'test.db'}",
                     broker_url=broker_url or f"sqla+sqlite:///{data_dir / 'broker.db'}",
                     GRADELOOP_QUEUE_PREFIX=prefix, **settings)
    with app.app_context():
        db.create_all()
    server = ServerThread(app, "127.0.0.1", 0, url_host="localhost")
    app.config["GRADELOOP_PUBLIC_URL"] = server.url
    server.start()
    return ToolServer(url=server.url, app=app, server=server)


def stop_tool(tool: ToolServer) -> None:
    from lti_app.extensions import db

    tool.server.stop()
    with tool.app.app_context():
        db.session.remove()
        db.engine.dispose()


def trained_assignment(peer: Peer, tool: ToolServer) -> tuple[dict, int]:
    """Teacher creates the assignment by Deep Linking and imports the graded essays; the ML
    pipeline trains and its gate promotes the course model. Returns (content item, assignment id)."""
    from lti_app.extensions import db
    from lti_app.models import Assignment
    from worker.ml import pipeline

    item = create_by_deep_link(peer, tool, title="The Face on Mars",
                               prompt="Convince a reader that the Face on Mars is a natural landform.")
    answer = import_graded(peer, tool, item["resource_link_id"], graded_rows(N_GRADED, data_dir=SHARED_DATA))
    assert answer.status_code == 200 and str(N_GRADED) in answer.text, answer.text[:800]
    with tool.app.app_context():
        assignment_id = db.session.scalar(db.select(Assignment.id).order_by(Assignment.id.desc()))
    version = pipeline.train_assignment(tool.app, assignment_id)
    assert version.status == "promoted", f"gate rejected the test model: {version.gate}"
    return item, assignment_id


def import_graded(peer: Peer, tool: ToolServer, link_id: str, rows: list[dict]):
    """The teacher uploads the graded essays on the import page."""
    teacher, _ = open_assignment(peer, tool, role="Instructor", user_id="teacher-1", resource_link_id=link_id)
    listing = teacher.get(tool.url + "/coursework/", timeout=30)
    page = teacher.get(_link(listing, "/import"), timeout=30)
    return post_form(teacher, page, files={"file": ("graded.csv", graded_csv(rows), "text/csv")},
                     action_contains="/import")


def _link(page, contains: str) -> str:
    import re

    hrefs = [h.replace("&amp;", "&") for h in re.findall(r'href="([^"]+)"', page.text) if contains in h]
    assert hrefs, f"no link containing {contains!r} on {page.url}"
    return page.url.split("/coursework")[0].split("/review")[0].split("/dashboard")[0] + hrefs[0]


def start_worker(app, prefix: str, log_path: Path, **env_overrides) -> subprocess.Popen:
    """A real `gradeloop worker` process on `app`'s database and broker; returns once it consumes."""
    env = worker_env(app, prefix, GRADELOOP_WORKER_PLUGINS="", **env_overrides)
    with open(log_path, "ab") as log:
        proc = subprocess.Popen([sys.executable, "-m", "lti_app.cli", "worker"], cwd=ROOT, env=env,
                                stdout=log, stderr=subprocess.STDOUT)
    wait_for(lambda: proc.poll() is not None or "event=consuming" in log_path.read_text(errors="replace"),
             60, what="worker connected")
    assert proc.poll() is None, log_path.read_text(errors="replace")[-3000:]
    return proc


def stop_worker(proc: subprocess.Popen | None) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)


@contextmanager
def scratch_postgres(server_url: str):
    """A database of its own on the test PostgreSQL server, dropped afterwards."""
    import sqlalchemy as sa

    name = f"gl_e2e_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield server_url.rsplit("/", 1)[0] + "/" + name
    finally:
        drop_database(admin, name)
        admin.dispose()


STACKS = {"sqlite+embedded": (None, None), "postgresql+rabbitmq": ("postgres_url", "rabbitmq_url")}


@pytest.fixture(scope="module", params=list(STACKS))
def live_course(request, tmp_path_factory, _peer_keys):
    """The live course on SQLite + the embedded broker, then on PostgreSQL + RabbitMQ (those two
    skip locally without the services and fail under CI=true, like their fixtures)."""
    if not (SHARED_DATA / "persuade" / "0" / "train.csv").is_file():
        pytest.fail(f"real essays expected at {SHARED_DATA}/persuade/0/train.csv")
    pg_fixture, mq_fixture = STACKS[request.param]
    broker_url = request.getfixturevalue(mq_fixture) if mq_fixture else None
    data_dir = tmp_path_factory.mktemp("live")
    prefix = f"e2e{uuid.uuid4().hex[:8]}"
    with ExitStack() as stack:
        database_url = stack.enter_context(scratch_postgres(request.getfixturevalue(pg_fixture))) \
            if pg_fixture else None
        if broker_url:
            stack.callback(_delete_topology, broker_url, prefix)
        tool = start_tool(data_dir, prefix, broker_url=broker_url, database_url=database_url, **FAST)
        stack.callback(stop_tool, tool)
        peer = Peer(tool).start()
        stack.callback(peer.stop)
        peer.register_in_tool(tool.app)
        item, assignment_id = trained_assignment(peer, tool)
        log_path = data_dir / "worker.log"
        proc = start_worker(tool.app, prefix, log_path)
        stack.callback(stop_worker, proc)
        yield LiveCourse(tool, peer, item, assignment_id, proc, log_path)
