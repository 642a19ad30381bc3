"""Deadline rush: a whole year group launches from the LMS and hands in the essay at once, against
`gradeloop serve` (gunicorn, as in production and `make run`) over real HTTP.

The sandbox LMS peer (tests/peer.py) launches every student for real (OIDC login, id_token,
landing page) and answers the AGS calls each hand-in makes. A teacher creates two assignments by
Deep Linking: on the first every student hands in one at a time (the baseline, same essays), on
the second all of them at once (`--concurrency` browsers) while the teacher reloads the
submissions list and a `gradeloop worker` consumes the events. Every `--docx-every`-th student
uploads a .docx instead of pasting. Then the database is checked: one row per student with the
text sent, one `submission.created` event per row, and no student told "error" whose essay was
stored anyway.

    nice -n 10 .venv/bin/python -m benchmarks.deadline_rush --students 150 --concurrency 32
    GRADELOOP_TEST_POSTGRES_URL=postgresql://gradeloop:gradeloop@127.0.0.1:5432/gradeloop_test \\
        nice -n 10 .venv/bin/python -m benchmarks.deadline_rush --database postgres
"""
from __future__ import annotations

import argparse
import contextlib
import html
import os
import re
import secrets
import signal
import statistics
import subprocess
import tempfile
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import requests

from benchmarks.launch_bench import ROOT, VENV_BIN, wait_ready
from lti_app import create_app
from lti_app.coursework.essay_text import word_count
from lti_app.demo import graded_rows
from lti_app.extensions import db
from lti_app.models import AiProposal, Assignment, FeedbackMode, Grade, OutboxEvent, Submission, User
from lti_app.sandbox.keys import pooled_key
from tests.conftest import SHARED_DATA
from tests.coursework.flows import create_by_deep_link, open_assignment, post_form
from tests.coursework.helpers import docx_bytes
from tests.e2e.conftest import scratch_postgres, start_worker, stop_worker, trained_assignment
from tests.peer import Peer, ToolServer

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
SUCCESS = "was handed in"
FRAME_WAIT_S = 30.0   # what tests/coursework/flows.post_form waits; an LMS frame rarely waits longer


@dataclass
class HandIn:
    user: str
    text: str
    docx: bool
    browser: requests.Session | None = None
    page: requests.Response | None = None
    seconds: float = 0.0
    outcome: str = ""          # "ok", or "<status> <message>" as the student saw it

    @property
    def ok(self) -> bool:
        return self.outcome == "ok"


@dataclass
class Phase:
    seconds: float
    hand_ins: list[HandIn] = field(default_factory=list)

    def latencies(self) -> list[float]:
        return sorted(h.seconds for h in self.hand_ins)


def essays(n: int, words: int) -> list[str]:
    """`n` different essays of `words` words: real PERSUADE essays run together, else filler."""
    source = [r["text"] for r in graded_rows(200, data_dir=SHARED_DATA)] or [
        "Schools should think carefully about the length of the week and what it does to learning."]
    pool = " ".join(source).split()
    out = []
    for i in range(n):
        start = (i * 97) % max(1, len(pool) - words)
        body = (pool * (1 + words // len(pool)))[start:start + words - 2]
        # three paragraphs (a .docx gets one per paragraph), each student's own opening words
        third = len(body) // 3
        out.append(f"Student {i}: " + " ".join(body[:third]) + "\n\n" + " ".join(body[third:2 * third])
                   + "\n\n" + " ".join(body[2 * third:]))
    return out


def _message(response: requests.Response) -> str:
    """What the student reads on an error page, in one line."""
    found = re.search(r'role="alert"[^>]*>(.*?)</', response.text, re.S) or \
        re.search(r"<main[^>]*>.*?<p[^>]*>(.*?)</p>", response.text, re.S)
    words = html.unescape(re.sub(r"<[^>]+>|\s+", " ", found.group(1))).strip() if found else response.reason
    return words[:120]


def hand_in(item: HandIn) -> HandIn:
    """POST the essay from the student's page (following the redirect to the success page)."""
    data, files = ({"text": ""}, {"file": ("essay.docx", docx_bytes(*item.text.split("\n\n")), DOCX)}) \
        if item.docx else ({"text": item.text}, None)
    started = time.perf_counter()
    try:
        answer = post_form(item.browser, item.page, data, files=files, action_contains="/essay")
        ok = answer.status_code == 200 and SUCCESS in answer.text
        item.outcome = "ok" if ok else f"{answer.status_code} {_message(answer)}"
    except requests.Timeout:
        item.outcome = f"no answer within {FRAME_WAIT_S:.0f} s"
    except requests.RequestException as exc:
        item.outcome = f"connection: {type(exc).__name__}"
    item.seconds = time.perf_counter() - started
    return item


def launch_all(peer: Peer, tool: ToolServer, items: list[HandIn], link: str, concurrency: int) -> Counter:
    """Each student launches from the LMS into `link`; returns the failures by what they saw."""
    def launch(item: HandIn):
        try:
            item.browser, item.page = open_assignment(peer, tool, role="Learner", user_id=item.user,
                                                      resource_link_id=link)
            return None
        except (AssertionError, requests.RequestException) as exc:
            return str(exc).splitlines()[0][:120]

    with ThreadPoolExecutor(concurrency) as pool:
        return Counter(problem for problem in pool.map(launch, items) if problem)


def run_phase(items: list[HandIn], concurrency: int) -> Phase:
    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        done = list(pool.map(hand_in, items))
    return Phase(time.perf_counter() - started, done)


@contextlib.contextmanager
def teacher_reloading(peer: Peer, tool: ToolServer, link: str, assignment_id: int):
    """The teacher keeps the submissions list open, reloading it (and the roster, every 5th time)."""
    browser, _ = open_assignment(peer, tool, role="Instructor", user_id="teacher-1", resource_link_id=link)
    statuses: Counter = Counter()
    stop = threading.Event()

    def reload():
        n = 0
        while not stop.wait(1.0):
            n += 1
            try:
                page = browser.get(f"{tool.url}/coursework/a/{assignment_id}", timeout=FRAME_WAIT_S,
                                   params={"refresh": "1"} if n % 5 == 0 else None)
                statuses[page.status_code] += 1
            except requests.RequestException as exc:
                statuses[type(exc).__name__] += 1

    thread = threading.Thread(target=reload, daemon=True)
    thread.start()
    try:
        yield statuses
    finally:
        stop.set()
        thread.join(FRAME_WAIT_S + 5)


def check_stored(app, assignment_id: int, items: list[HandIn]) -> dict:
    """What the database holds for the assignment, against what each student was told."""
    with app.app_context():
        rows = db.session.execute(db.select(User.sub, Submission.id, Submission.word_count)
                                  .join(User, Submission.user_id == User.id)
                                  .where(Submission.assignment_id == assignment_id)).all()
        # the row holds the message envelope; a scheduled retry is a new row with the same event_id
        events = {(e["event_id"], e["payload"]["submission_id"]) for e in db.session.scalars(
            db.select(OutboxEvent.payload).where(OutboxEvent.type == "submission.created"))
            if e["payload"]["assignment_id"] == assignment_id}
        created = Counter(submission_id for _, submission_id in events)
    per_user = Counter(sub for sub, _, _ in rows)
    words = {sub: n for sub, _, n in rows}
    told_error = [h for h in items if not h.ok]
    return {"stored": len(rows), "expected": len(items),
            "students with two rows": sum(1 for n in per_user.values() if n > 1),
            "rows with two submission.created events": sum(1 for n in created.values() if n > 1),
            "rows without their event": sum(1 for _, sid, _ in rows if created[sid] == 0),
            "told ok, not stored": sum(1 for h in items if h.ok and h.user not in per_user),
            "told error, stored anyway": sum(1 for h in told_error if h.user in per_user),
            "stored with another word count": sum(1 for h in items if h.user in words
                                                  and words[h.user] != word_count(h.text))}


def wait_drained(app, timeout: float) -> int:
    """Wait until the worker's relay has published every outbox event; returns those left."""
    deadline = time.monotonic() + timeout
    while True:
        with app.app_context():
            left = db.session.scalar(db.select(db.func.count(OutboxEvent.id))
                                     .where(OutboxEvent.published_at.is_(None)))
            db.session.remove()
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.5)


def assignment(peer: Peer, tool: ToolServer, scoring: bool) -> tuple[dict, int]:
    """A new assignment made by the teacher through Deep Linking: (content item, id); with
    `scoring`, trained and in auto-release mode, so the worker grades every hand-in."""
    if not scoring:
        item = create_by_deep_link(peer, tool)
        with tool.app.app_context():
            return item, db.session.scalar(db.select(db.func.max(Assignment.id)))
    item, assignment_id = trained_assignment(peer, tool)
    with tool.app.app_context():
        row = db.session.get(Assignment, assignment_id)
        row.feedback_mode, row.confidence_threshold = FeedbackMode.AUTO_RELEASE, 0.0
        db.session.commit()
    return item, assignment_id


def wait_scored(app, assignment_id: int, expected: int, timeout: float) -> tuple[float, dict]:
    """Seconds until the worker proposed a score for `expected` students' essays, and the counts."""
    started = time.monotonic()
    while True:
        with app.app_context():
            proposals = Counter(db.session.scalars(
                db.select(AiProposal.submission_id).join(Submission, AiProposal.submission_id == Submission.id)
                .where(Submission.assignment_id == assignment_id, Submission.user_id.is_not(None))))
            released = Counter(db.session.scalars(
                db.select(Grade.submission_id).join(Submission, Grade.submission_id == Submission.id)
                .where(Submission.assignment_id == assignment_id, Submission.user_id.is_not(None))))
            db.session.remove()
        if len(proposals) >= expected or time.monotonic() - started > timeout:
            return time.monotonic() - started, {
                "scored": len(proposals), "scored twice": sum(1 for n in proposals.values() if n > 1),
                "graded": len(released), "graded twice": sum(1 for n in released.values() if n > 1)}
        time.sleep(0.5)


def lms_told(peer: Peer, line_item: str, expected: int, timeout: float) -> tuple[float, Counter]:
    """Wait until the LMS gradebook was told of `expected` hand-ins; (seconds, posts per student)."""
    started = time.monotonic()
    while True:
        told = Counter(s.get("userId") for s in peer.scores(line_item) if s.get("activityProgress") == "Submitted")
        if len(told) >= expected or time.monotonic() - started > timeout:
            return time.monotonic() - started, told
        time.sleep(0.5)


def summary(label: str, phase: Phase) -> str:
    values = phase.latencies()
    p95 = values[min(len(values) - 1, int(round(0.95 * (len(values) - 1))))]
    return (f"{label:34} {len(values) / phase.seconds:6.1f} hand-ins/s  p50 {statistics.median(values):6.3f} s  "
            f"p95 {p95:6.3f} s  max {values[-1]:6.3f} s  ({len(values)} in {phase.seconds:.1f} s)")


def serve(env: dict, port: int, workers: int | None, threads: int) -> subprocess.Popen:
    cmd = ["taskset", "-c", "0,1", str(VENV_BIN / "gradeloop"), "serve", "--migrate", "--port", str(port),
           "--threads", str(threads)] + (["--workers", str(workers)] if workers else [])
    return subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=open(Path(env["GRADELOOP_DATA_DIR"]) / "serve.log", "ab"),
                            start_new_session=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--students", type=int, default=150)
    ap.add_argument("--concurrency", type=int, default=32, help="students handing in at the same moment")
    ap.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    ap.add_argument("--postgres-url", default=os.environ.get("GRADELOOP_TEST_POSTGRES_URL", ""),
                    help="server for a scratch database (default: $GRADELOOP_TEST_POSTGRES_URL)")
    ap.add_argument("--broker", default="", help="default: the embedded SQLite broker in the data dir")
    ap.add_argument("--words", type=int, default=500)
    ap.add_argument("--docx-every", type=int, default=5, help="every n-th student uploads a .docx (0: none)")
    ap.add_argument("--workers", type=int, default=None, help="gunicorn processes (default: serve's own)")
    ap.add_argument("--threads", type=int, default=4)
    ap.add_argument("--no-worker", action="store_true", help="no `gradeloop worker` during the rush")
    ap.add_argument("--scoring", action="store_true",
                    help="train a course model on each assignment (100 graded PERSUADE essays): the worker "
                         "scores every hand-in and releases the AI grade to the LMS (auto mode)")
    ap.add_argument("--lms-delay", type=float, default=0.0,
                    help="seconds the LMS holds each score post during the rush (an LMS under the same deadline)")
    ap.add_argument("--port", type=int, default=8941)
    args = ap.parse_args()
    if args.database == "postgres" and not args.postgres_url:
        raise SystemExit("--database postgres needs --postgres-url or GRADELOOP_TEST_POSTGRES_URL")

    pooled_key(0)
    data_dir = Path(tempfile.mkdtemp(prefix="gl-rush-"))
    tool_url = f"http://localhost:{args.port}"
    with contextlib.ExitStack() as stack:
        database_url = (stack.enter_context(scratch_postgres(args.postgres_url)) if args.database == "postgres"
                        else f"sqlite:///{data_dir / 'gradeloop.db'}")
        broker_url = args.broker or f"sqla+sqlite:///{data_dir / 'broker.db'}"
        secret = secrets.token_hex(32)
        env = {**{k: v for k, v in os.environ.items() if not k.startswith("GRADELOOP_")},
               "GRADELOOP_DATA_DIR": str(data_dir), "GRADELOOP_DATABASE_URL": database_url,
               "GRADELOOP_BROKER_URL": broker_url, "GRADELOOP_PUBLIC_URL": tool_url,
               "GRADELOOP_SECRET_KEY": secret, "GRADELOOP_ENV": "development",
               "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
        server = serve(env, args.port, args.workers, args.threads)
        stack.callback(lambda: (os.killpg(server.pid, signal.SIGTERM), server.wait(30)))
        wait_ready(args.port)
        prefix = f"rush{uuid.uuid4().hex[:8]}"
        app = create_app(env="development", data_dir=str(data_dir), database_url=database_url,
                         broker_url=broker_url, secret_key=secret, public_url=tool_url,
                         GRADELOOP_QUEUE_PREFIX=prefix)
        tool = ToolServer(url=tool_url, app=app, server=None)
        peer = Peer(tool, page_sizes={"members": 100}).start()
        stack.callback(peer.stop)
        peer.register_in_tool(app)

        (baseline_item, baseline_id), (rush_item, rush_id) = (assignment(peer, tool, args.scoring) for _ in "ab")
        texts = essays(args.students, args.words)
        users = [f"student-{i:03}" for i in range(args.students)]
        for i, user in enumerate(users):
            peer.add_member("course-1", user, "Learner", name=f"Student {i}")
        docx = [bool(args.docx_every) and i % args.docx_every == 0 for i in range(args.students)]
        baseline = [HandIn(u, t, d) for u, t, d in zip(users, texts, docx)]
        rush = [HandIn(u, t, d) for u, t, d in zip(users, texts, docx)]

        started = time.perf_counter()
        launch_failures = launch_all(peer, tool, baseline, baseline_item["resource_link_id"], args.concurrency)
        launch_failures += launch_all(peer, tool, rush, rush_item["resource_link_id"], args.concurrency)
        launch_rate = 2 * args.students / (time.perf_counter() - started)
        launched = [h for h in baseline if h.page is not None], [h for h in rush if h.page is not None]

        worker = None if args.no_worker else start_worker(app, prefix, data_dir / "worker.log")
        stack.callback(stop_worker, worker)
        one_by_one = run_phase(launched[0], 1)
        left_before = wait_drained(app, 60) if worker else 0
        if args.lms_delay:
            peer.fail_next(10 * args.students, mode="slow", delay=args.lms_delay, services=("ags",), match="/scores")
        with teacher_reloading(peer, tool, rush_item["resource_link_id"], rush_id) as teacher:
            at_once = run_phase(launched[1], args.concurrency)
        scored = wait_scored(app, rush_id, len(launched[1]), 600) if worker and args.scoring else None
        told = lms_told(peer, rush_item["line_item_id"], len(launched[1]), 240) if worker else None
        left_after = wait_drained(app, 120) if worker else 0

        print(f"{args.students} students, {args.words} words each, every {args.docx_every or '-'}th a .docx; "
              f"{args.database}, broker "
              f"{broker_url.split(':')[0]}; gunicorn {args.workers or 'default'} workers x {args.threads} "
              f"threads pinned to cores 0,1; worker {'off' if worker is None else 'on'}"
              f"{', scoring every essay' if args.scoring else ''}; LMS score posts held "
              f"{args.lms_delay:g} s in the rush; load average "
              f"{os.getloadavg()[0]:.1f}")
        print(f"launches: {2 * args.students} at concurrency {args.concurrency}, {launch_rate:.1f} launches/s, "
              f"failed: {dict(launch_failures) or 0}")
        print(summary("baseline: one at a time", one_by_one))
        print(summary(f"rush: {args.concurrency} at once", at_once))
        print(f"ratio rush/baseline: throughput "
              f"{(len(at_once.hand_ins) / at_once.seconds) / (len(one_by_one.hand_ins) / one_by_one.seconds):.2f}x, "
              f"p50 latency {statistics.median(at_once.latencies()) / statistics.median(one_by_one.latencies()):.2f}x")
        for label, phase, assignment_id in (("baseline", one_by_one, baseline_id), ("rush", at_once, rush_id)):
            refused = Counter(h.outcome for h in phase.hand_ins if not h.ok)
            slow = sum(1 for h in phase.hand_ins if h.seconds > FRAME_WAIT_S)
            print(f"{label}: not ok {dict(refused) or 0}; over {FRAME_WAIT_S:.0f} s: {slow}")
            print(f"{label}: {check_stored(app, assignment_id, phase.hand_ins)}")
        if scored:
            print(f"worker: every rush essay scored {scored[0]:.1f} s after the rush ended: {scored[1]}")
        if told:
            seconds, posts = told
            print(f"LMS told of the rush hand-ins ({seconds:.0f} s after the rush): once "
                  f"{sum(1 for n in posts.values() if n == 1)}, twice or more "
                  f"{sum(1 for n in posts.values() if n > 1)}, not yet {len(launched[1]) - len(posts)}")
        print(f"teacher's list during the rush: {dict(teacher)}; outbox left unpublished: "
              f"{left_before} after the baseline, {left_after} 120 s after the rush")


if __name__ == "__main__":
    main()
