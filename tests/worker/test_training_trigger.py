"""When retraining is due (K new teacher grades, the schedule, a manual request, an import: at once for
the first model, then at K new grades; never before `min_graded`), and that a busy assignment lease
never lets it train twice."""
from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

from lti_app.events import record_event
from lti_app.extensions import db
from lti_app.models import GradeSource, OutboxEvent, ProcessedMessage, TrainingRun
from lti_app.models.base import utcnow
from tests.worker.conftest import running_worker, wait_for
from tests.worker.coursework import add_graded, make_assignment, put_model_in_service
from worker import leases
from worker.handlers import training
from worker.handlers.training import is_due, lease_key, training_state
from worker.ml import pipeline
from worker.scheduler import due_retraining
from worker.settings import WorkerSettings


def test_counts_and_due_rules(app):
    with app.app_context():
        a = make_assignment(min_graded=15, retrain_every=5)
        add_graded(a, 13)
        add_graded(a, 3, source=GradeSource.AI_AUTO)   # auto-released AI grades never train
        state = training_state(a.id)
        assert (state.graded, state.new_grades, state.last_trained_at) == (13, 13, None)
        assert not is_due(a, state, "manual"), "min_graded is respected even when forced"
        add_graded(a, 2, source=GradeSource.AI_EDITED)
        state = training_state(a.id)
        assert state.graded == 15
        assert is_due(a, state, "grade") and is_due(a, state, "manual")

        db.session.add(TrainingRun(assignment_id=a.id, status="done", started_at=utcnow()))
        db.session.commit()
        state = training_state(a.id)
        assert state.new_grades == 0
        assert not is_due(a, state, "grade") and not is_due(a, state, "schedule")
        assert is_due(a, state, "manual")
        add_graded(a, 4)
        state = training_state(a.id)
        assert state.new_grades == 4 and not is_due(a, state, "grade") and is_due(a, state, "schedule")
        add_graded(a, 1)
        assert is_due(a, training_state(a.id), "grade")


def test_scheduler_picks_due_assignments(app):
    with app.app_context():
        fresh = make_assignment(min_graded=15, retrain_every=50)
        stale = make_assignment(min_graded=15, retrain_every=50)
        busy = make_assignment(min_graded=15, retrain_every=2)
        small = make_assignment(min_graded=30, retrain_every=2)
        for a in (fresh, stale, busy, small):
            add_graded(a, 16, age=timedelta(days=3))
        now = utcnow()
        db.session.add_all([TrainingRun(assignment_id=fresh.id, status="done", started_at=now - timedelta(hours=1)),
                            TrainingRun(assignment_id=stale.id, status="done", started_at=now - timedelta(days=2)),
                            TrainingRun(assignment_id=busy.id, status="done", started_at=now - timedelta(days=2))])
        db.session.commit()
        add_graded(fresh, 1)
        add_graded(stale, 1)
        add_graded(busy, 2)
        due = dict(due_retraining(interval_hours=24))
        assert due == {stale.id: "schedule", busy.id: "threshold"}
        assert due_retraining(interval_hours=0.5) == [(fresh.id, "schedule"), (stale.id, "schedule"),
                                                      (busy.id, "threshold")]


def test_busy_lease_never_trains_twice(worker_app, broker_for):
    """While another worker trains the assignment: a teacher's "retrain now" waits for it (a copy
    due when the holder's lease would expire), and a grade's trigger is acknowledged, since the
    running training counts the grades that arrived meanwhile when it ends."""
    app = worker_app(broker_for("embedded"))
    with app.app_context():
        a = make_assignment(min_graded=15, retrain_every=2)   # 15: the fewest a retrain can use
        grades = add_graded(a, 15)
        assert leases.acquire(lease_key(a.id), "gpu-box:1:abc/running-job", ttl=30)
        graded = record_event("grade.created", {"grade_id": grades[-1].id, "submission_id": grades[-1].submission_id,
                                                "assignment_id": a.id, "course_id": a.course_id})
        manual = record_event("training.due", {"assignment_id": a.id, "reason": "manual"})
        db.session.commit()
        graded_id, manual_id, assignment_id = graded.event_id, manual.event_id, a.id

    def deferred_copy():
        with app.app_context():
            return db.session.scalar(db.select(OutboxEvent).where(
                OutboxEvent.type == "training.due", OutboxEvent.event_id != manual_id))

    with running_worker(app, queues=["training"]):
        copy = wait_for(deferred_copy, 20, what="deferred copy in the outbox")
        with app.app_context():
            wait_for(lambda: db.session.get(ProcessedMessage, graded_id), 10, what="grade trigger acknowledged")
            assert db.session.get(ProcessedMessage, manual_id) is None, "deferred, not done"
            assert db.session.scalar(db.select(db.func.count()).select_from(OutboxEvent).where(
                OutboxEvent.type == "grade.created", OutboxEvent.event_id != graded_id)) == 0, "no copy of it"
    assert copy.payload["event_id"] == manual_id and copy.payload["attempt"] == 0
    due_in = (copy.created_at.replace(tzinfo=None) - utcnow().replace(tzinfo=None)).total_seconds()
    assert 20 < due_in <= 31, "redelivered around the time the holder's lease would expire"
    with app.app_context():
        assert leases.holder(lease_key(assignment_id))[0] == "gpu-box:1:abc/running-job"


def test_busy_lease_defers_an_import_instead_of_dropping_it(worker_app, broker_for):
    """Before the first model an import or course copy is due whatever its size; the running
    training only re-queues at `retrain_every` new grades, so acknowledging the batch left the
    first model to the daily schedule."""
    app = worker_app(broker_for("embedded"))
    with app.app_context():
        a = make_assignment(min_graded=15, retrain_every=20)
        add_graded(a, 15)
        assert leases.acquire(lease_key(a.id), "gpu-box:1:abc/running-job", ttl=30)
        ids = [record_event("training.due", {"assignment_id": a.id, "reason": reason}).event_id
               for reason in ("import", "course_copy")]
        db.session.commit()

    def deferred_copies():
        with app.app_context():
            rows = db.session.scalars(db.select(OutboxEvent).where(
                OutboxEvent.type == "training.due", OutboxEvent.event_id.not_in(ids))).all()
            return rows if len(rows) == 2 else None

    with running_worker(app, queues=["training"]):
        copies = wait_for(deferred_copies, 20, what="both batches deferred")
    assert sorted(c.payload["event_id"] for c in copies) == sorted(ids)
    with app.app_context():
        assert not any(db.session.get(ProcessedMessage, i) for i in ids), "deferred, not acknowledged"


def _trains(app, monkeypatch, assignment_id: int, message_id: str, reason: str = "import") -> bool:
    """Whether the handler starts a run for this `training.due` (the pipeline stands in: only
    the decision is under test, and a real run takes minutes)."""
    calls = []
    monkeypatch.setattr(pipeline, "train_assignment", lambda *args, **kw: calls.append(kw["reason"]))
    training.on_training_due(SimpleNamespace(app=app, message_id=message_id, worker_id="host:1:abc",
                                             settings=WorkerSettings.from_app(app),
                                             payload={"assignment_id": assignment_id, "reason": reason}))
    return calls == [reason]


def test_an_import_committed_after_a_run_started_is_due(app, monkeypatch):
    """The imported grades were flushed (stamped) before the last run started, but committed (the
    event recorded) after it: that run did not see them, and they no longer count as new grades.
    A run started after the event was recorded saw them, however late the relay published it."""
    with app.app_context():
        a = make_assignment(min_graded=15, retrain_every=20)
        add_graded(a, 15, age=timedelta(minutes=10))
        now = utcnow()
        db.session.add(TrainingRun(assignment_id=a.id, status="done", started_at=now - timedelta(minutes=5)))
        late = record_event("training.due", {"assignment_id": a.id, "reason": "import"})
        seen = record_event("training.due", {"assignment_id": a.id, "reason": "import"})
        late.created_at, seen.created_at = now - timedelta(minutes=4), now - timedelta(minutes=6)
        late.published_at = seen.published_at = now   # published after the run, both
        db.session.commit()
        assert training_state(a.id).new_grades == 0
        assert not _trains(app, monkeypatch, a.id, seen.event_id), "a run started after the event saw them"
        assert _trains(app, monkeypatch, a.id, late.event_id)
        assert _trains(app, monkeypatch, a.id, "gone-from-the-outbox", "course_copy"), "unknown counts as due"
        assert not _trains(app, monkeypatch, a.id, late.event_id, "schedule"), "other reasons count grades"


def _batch(a, n: int, reason: str = "import") -> str:
    """`n` imported grades and their batch's event, recorded after them as `import_rows` does."""
    add_graded(a, n, source=GradeSource.IMPORT)
    event_id = record_event("training.due", {"assignment_id": a.id, "reason": reason}).event_id
    db.session.commit()
    return event_id


def test_an_import_retrains_at_once_only_for_the_first_model_or_k_new_grades(app, monkeypatch):
    """Once a model serves, imported grades count like teacher grades: five small files are not five
    full retrains. The first model follows the import that reaches `min_graded` at once."""
    with app.app_context():
        a = make_assignment(min_graded=15, retrain_every=20)
        assert not _trains(app, monkeypatch, a.id, _batch(a, 14)), "below min_graded"
        assert _trains(app, monkeypatch, a.id, _batch(a, 1)), "no model in service yet: the first one at once"

        db.session.add(TrainingRun(assignment_id=a.id, status="done", started_at=utcnow()))
        db.session.commit()
        put_model_in_service(a)
        assert not _trains(app, monkeypatch, a.id, _batch(a, 3)), "3 new grades of 20"
        assert not _trains(app, monkeypatch, a.id, _batch(a, 2, "course_copy")), "5 new grades of 20"
        add_graded(a, 4)   # teacher grades count towards the same threshold
        assert not _trains(app, monkeypatch, a.id, _batch(a, 10)), "19 new grades of 20"
        assert _trains(app, monkeypatch, a.id, "daily-check", "schedule"), "the schedule takes in any new grade"
        assert _trains(app, monkeypatch, a.id, _batch(a, 1)), "the batch that reaches retrain_every"

        retired = make_assignment(min_graded=15, retrain_every=20)   # trained once, no model in service
        add_graded(retired, 15, age=timedelta(hours=2))
        db.session.add(TrainingRun(assignment_id=retired.id, status="done", started_at=utcnow() - timedelta(hours=1)))
        db.session.commit()
        assert _trains(app, monkeypatch, retired.id, _batch(retired, 2)), "no model in service: at once"


def test_an_import_the_last_run_could_not_see_trains_even_with_a_model_in_service(app, monkeypatch):
    """Grades flushed before the last run started but committed after it never count as new, not
    even for the schedule: the batch trains at once whatever its size."""
    with app.app_context():
        a = make_assignment(min_graded=15, retrain_every=20)
        add_graded(a, 15, age=timedelta(hours=2))
        put_model_in_service(a)
        add_graded(a, 2, source=GradeSource.IMPORT, age=timedelta(minutes=10))
        now = utcnow()
        db.session.add(TrainingRun(assignment_id=a.id, status="done", started_at=now - timedelta(minutes=5)))
        late = record_event("training.due", {"assignment_id": a.id, "reason": "import"})
        seen = record_event("training.due", {"assignment_id": a.id, "reason": "import"})
        late.created_at, seen.created_at = now - timedelta(minutes=4), now - timedelta(minutes=6)
        db.session.commit()
        assert training_state(a.id).new_grades == 0
        assert _trains(app, monkeypatch, a.id, late.event_id)
        assert not _trains(app, monkeypatch, a.id, seen.event_id), "a run started after the event saw them"
        assert not _trains(app, monkeypatch, a.id, late.event_id, "schedule")
