"""What the retrain does around the model, on a real database with the training itself faked
(`FakeTraining`: a tiny real ONNX graph from tinymodel.py, held-out figures set by the test), so
each case takes a second: an erasure retrain replaces or retires a model trained on erased
essays (and `--drop-models` still works), a failed export leaves no cached session behind, a
lost training lease stops the run before it writes or promotes, and rollback returns to the
version that served before the current one."""
from __future__ import annotations

import sys
import types
from datetime import timedelta
from types import SimpleNamespace

import pytest

from lti_app.extensions import db
from lti_app.models import AiProposal, Assignment, ModelVersion, Submission, TrainingRun, User
from lti_app.models.base import utcnow
from tests.worker.coursework import add_graded, make_assignment
from tests.worker.ml import tinymodel
from worker import leases
from worker.handlers.training import lease_key
from worker.ml import modelfiles, pipeline, scorer, versions


class FakeTraining:
    """Stands in for `retrain.retrain`, `export.save_torch` / `export_model` and the current
    model's held-out metrics. `new_qwk` / `current_qwk`: the gate's inputs; `raw`: what the
    exported graph answers (0..1); `on`: hooks by stage ("retrain", "export")."""

    def __init__(self, monkeypatch):
        self.new_qwk, self.current_qwk, self.raw, self.on = 0.9, 0.8, 0.5, {}
        monkeypatch.setattr(pipeline, "_train_config", lambda app, seed=0: SimpleNamespace(epochs=1))
        monkeypatch.setattr(pipeline, "compute_metrics", lambda *a, **k: self._metrics(self.current_qwk))
        retrain_mod = types.ModuleType("worker.ml.retrain")
        retrain_mod.retrain = self.retrain
        export_mod = types.ModuleType("worker.ml.export")
        export_mod.save_torch = lambda final, model_dir, extra=None: tinymodel.write_meta(model_dir, **(extra or {}))
        export_mod.export_model = self.export_model
        monkeypatch.setitem(sys.modules, "worker.ml.retrain", retrain_mod)
        monkeypatch.setitem(sys.modules, "worker.ml.export", export_mod)

    @staticmethod
    def _metrics(qwk: float) -> dict:
        """Held-out metrics as `metrics.compute_metrics` gives them: five essays over three scores
        (the gate refuses held-out essays that all have one teacher score)."""
        return {"qwk": qwk, "smd": 0.0, "n": 5, "scale": [1, 3], "confusion": [[2, 0, 0], [0, 2, 0], [0, 0, 1]]}

    def _hook(self, stage, *args):
        if stage in self.on:
            self.on[stage](*args)

    def retrain(self, examples, config, seen_ids=None, progress=None):
        self._hook("retrain")
        if progress is not None and self.on.get("progress_after_retrain"):
            progress("features", 1, 1)
        model = SimpleNamespace(approach="frozen-ridge", info={})
        return SimpleNamespace(held=list(range(5)), fair=True, metrics=self._metrics(self.new_qwk),
                               held_out_model=model, held_out_scores=[3] * 5,
                               refit=lambda ex, cfg, progress=None: (SimpleNamespace(approach="frozen-ridge",
                                                                                     info={}), 0.0))

    def export_model(self, final, model_dir, texts, y):
        meta = tinymodel.export(model_dir, self.raw)
        self._hook("export", model_dir)
        return meta


@pytest.fixture
def fake(monkeypatch):
    return FakeTraining(monkeypatch)


@pytest.fixture
def course(make_app):
    app = make_app()
    with app.app_context():
        a = make_assignment(min_graded=15, retrain_every=5)
        add_graded(a, 20)
        aid = a.id
    return SimpleNamespace(app=app, aid=aid)


def _student_of_first_essay(aid) -> User:
    sub = db.session.scalars(db.select(Submission).where(Submission.assignment_id == aid)
                             .order_by(Submission.id)).first()
    return db.session.get(User, sub.user_id)


def _erase_one(app, aid, **kwargs):
    from lti_app.erasure import erase_user

    with app.app_context():
        erase_user(_student_of_first_essay(aid), **kwargs)


def _state(app, aid):
    with app.app_context():
        a = db.session.get(Assignment, aid)
        rows = {mv.version: mv.status for mv in db.session.scalars(
            db.select(ModelVersion).where(ModelVersion.assignment_id == aid))}
        run = db.session.scalar(db.select(TrainingRun).where(TrainingRun.assignment_id == aid)
                                .order_by(TrainingRun.id.desc()).limit(1))
        current = db.session.get(ModelVersion, a.current_model_id) if a.current_model_id else None
        return SimpleNamespace(current=current.version if current else None, versions=rows,
                               run_status=run.status if run else None, message=run.message if run else "")


# -- 1. erasure ---------------------------------------------------------------------------------

def test_erasure_retrain_replaces_a_model_trained_on_erased_essays_even_if_slightly_worse(course, fake):
    app, aid = course.app, course.aid
    assert pipeline.train_assignment(app, aid).status == "promoted"
    _erase_one(app, aid)
    fake.new_qwk, fake.current_qwk = 0.75, 0.80     # valid, but below the model holding erased essays
    v2 = pipeline.train_assignment(app, aid, reason="erasure")
    assert v2.status == "promoted", v2.gate
    assert v2.gate["checks"]["beats_current"] is None and v2.gate["checks"]["qwk"] is True
    assert any("trained on deleted essays" in r for r in v2.gate["reasons"])
    with app.app_context():
        v1 = db.session.scalar(db.select(ModelVersion).filter_by(assignment_id=aid, version=1))
        assert v1.status == "retired" and "deleted" in v1.gate["retired"]["reason"]
    with pytest.raises(ValueError, match="deleted"):
        versions.rollback(app, aid, to_version=1)


def test_the_gate_still_compares_when_the_current_model_never_saw_the_erased_essays(course, fake):
    app, aid = course.app, course.aid
    pipeline.train_assignment(app, aid)
    with app.app_context():   # a student who handed in after v1 was trained
        late = add_graded(db.session.get(Assignment, aid), 1)[0]
        user = db.session.get(User, db.session.get(Submission, late.submission_id).user_id)
        from lti_app.erasure import erase_user

        erase_user(user)
    fake.new_qwk, fake.current_qwk = 0.75, 0.80
    v2 = pipeline.train_assignment(app, aid, reason="erasure")
    assert v2.status == "rejected" and v2.gate["checks"]["beats_current"] is False
    assert _state(app, aid).current == 1


def test_erasure_retrain_failing_the_validity_gate_retires_the_current_model(course, fake):
    from worker.handlers.scoring import score_new_submission

    app, aid = course.app, course.aid
    pipeline.train_assignment(app, aid)
    _erase_one(app, aid)
    fake.new_qwk, fake.current_qwk = 0.60, 0.95     # below 0.70: not valid, however the old one scores
    v2 = pipeline.train_assignment(app, aid, reason="erasure")
    assert v2.status == "rejected"
    state = _state(app, aid)
    assert state.current is None and state.versions == {1: "retired", 2: "rejected"}
    assert "Version 1 was trained on deleted essays and no longer scores" in state.message
    with app.app_context():   # a new essay waits for the teacher: no proposal, no error
        new = Submission(assignment_id=aid, text="A new essay about phones. " * 20, word_count=100)
        db.session.add(new)
        db.session.commit()
        score_new_submission(SimpleNamespace(app=app, payload={"submission_id": new.id}))
        assert db.session.scalar(db.select(AiProposal).where(AiProposal.submission_id == new.id)) is None
    with pytest.raises(scorer.NoModel):
        scorer.score_submission(app, new.id)
    with pytest.raises(ValueError, match="no earlier version"):
        versions.rollback(app, aid)


def test_erasure_below_the_minimum_retires_the_current_model(course, fake):
    app, aid = course.app, course.aid
    with app.app_context():
        db.session.get(Assignment, aid).min_graded = 20
        db.session.commit()
    pipeline.train_assignment(app, aid)
    _erase_one(app, aid)                       # 19 graded essays left, 20 needed
    with pytest.raises(pipeline.NotEnoughGrades):
        pipeline.train_assignment(app, aid, reason="erasure")
    state = _state(app, aid)
    assert state.current is None and state.versions == {1: "retired"} and state.run_status == "failed"
    assert "need 20" in state.message and "no longer scores" in state.message


def test_drop_models_then_the_erasure_retrain_starts_clean(course, fake):
    app, aid = course.app, course.aid
    pipeline.train_assignment(app, aid)                  # the old v1 answers 0.5 (3.5 on 1-6)
    old_dir = versions.version_dir(app, aid, 1)
    assert scorer.score(str(old_dir), ["cached before the erasure"])[0].raw == pytest.approx(3.5)
    _erase_one(app, aid, drop_models=True)
    assert not old_dir.exists() and _state(app, aid).versions == {}
    fake.raw, fake.new_qwk = 0.1, 0.72
    new = pipeline.train_assignment(app, aid, reason="erasure")
    assert (new.version, new.status) == (1, "promoted")
    assert "current_on_held_out" in new.metrics and new.metrics["current_on_held_out"] is None
    assert scorer.score(str(old_dir), ["an essay"])[0].raw == pytest.approx(1.5), "the new v1's graph"


def test_a_leftover_version_directory_never_receives_a_new_versions_files(course, fake):
    """`--drop-models` removes files after its commit, only inside the data dir: a v1 left on
    disk (not yet removed, or unremovable) must not be reused for the next v1."""
    app, aid = course.app, course.aid
    pipeline.train_assignment(app, aid)
    _erase_one(app, aid, drop_models=True)
    leftover = tinymodel.make_version(versions.version_dir(app, aid, 1), raw=0.9)
    fake.raw = 0.1
    new = pipeline.train_assignment(app, aid, reason="erasure")
    assert new.version == 2 and new.status == "promoted"
    assert modelfiles.read_meta(leftover)["onnx_file"] == "model.onnx" and "version" not in modelfiles.read_meta(leftover)


# -- 3. session cache around a failed export ------------------------------------------------------

def test_a_failed_export_leaves_no_cached_session_for_the_retry(course, fake):
    app, aid = course.app, course.aid

    def parity_then_crash(model_dir):
        scorer.score(str(model_dir), ["parity reads the graph through the scorer"])
        raise RuntimeError("export crashed after the parity check")

    fake.raw, fake.on["export"] = 0.9, parity_then_crash
    with pytest.raises(RuntimeError, match="export crashed"):
        pipeline.train_assignment(app, aid)
    model_dir = versions.version_dir(app, aid, 1)
    assert not model_dir.exists()
    assert not [k for k in scorer._sessions if k[0] == str(model_dir.resolve())], "forgotten with the directory"
    fake.raw, fake.on = 0.1, {}
    assert pipeline.train_assignment(app, aid).version == 1
    assert scorer.score(str(model_dir), ["an essay"])[0].raw == pytest.approx(1.5)


def test_a_session_cached_for_the_path_is_dropped_before_a_version_is_written(course, fake):
    app, aid = course.app, course.aid
    model_dir = versions.version_dir(app, aid, 1)
    stale = (str(model_dir.resolve()), "model.onnx")
    scorer._sessions[stale] = SimpleNamespace(stamp=())   # e.g. left by a deleted v1 in this process
    seen = []
    fake.on["export"] = lambda d: seen.append(stale in scorer._sessions)
    try:
        pipeline.train_assignment(app, aid)
    finally:
        scorer._sessions.pop(stale, None)
    assert seen == [False]


# -- 6. lost training lease -----------------------------------------------------------------------

def _steal(aid):
    with db.engine.begin() as conn:   # what another worker does once our lease has expired
        conn.execute(db.update(leases.T).where(leases.T.c.key == lease_key(aid))
                     .values(owner="other-host:1:abc/job", expires_at=utcnow() + timedelta(minutes=5)))


def test_a_lost_lease_stops_the_run_before_it_writes_the_version(course, fake):
    app, aid = course.app, course.aid
    fake.on["retrain"] = lambda: _steal(aid)
    with app.app_context(), leases.hold(app, lease_key(aid), "me:1:x/job", ttl=60) as lease:
        with pytest.raises(pipeline.LeaseLost, match="lease was lost before writing"):
            pipeline.train_assignment(app, aid, lease=lease)
        assert lease.lost.is_set()
    state = _state(app, aid)
    assert state.run_status == "failed" and "LeaseLost" in state.message and state.versions == {}
    assert not versions.version_dir(app, aid, 1).exists()


def test_a_lost_lease_stops_the_run_before_it_promotes(course, fake):
    app, aid = course.app, course.aid
    pipeline.train_assignment(app, aid)
    fake.on["export"] = lambda model_dir: _steal(aid)
    with app.app_context(), leases.hold(app, lease_key(aid), "me:1:x/job", ttl=60) as lease:
        with pytest.raises(pipeline.LeaseLost, match="before promoting version 2"):
            pipeline.train_assignment(app, aid, lease=lease)
    state = _state(app, aid)
    assert state.current == 1 and state.versions == {1: "promoted"} and state.run_status == "failed"
    assert not versions.version_dir(app, aid, 2).exists()


def test_a_run_never_writes_into_a_directory_another_run_created(course, fake):
    app, aid = course.app, course.aid
    theirs = versions.version_dir(app, aid, 1)
    fake.on["retrain"] = lambda: tinymodel.make_version(theirs, raw=0.9)   # the other worker's v1
    v = pipeline.train_assignment(app, aid)
    assert v.version == 2, "the version number skips a directory that exists"
    assert "version" not in modelfiles.read_meta(theirs)


def test_confirm_sees_a_takeover_before_the_renewer_does(course):
    app, aid = course.app, course.aid
    with app.app_context(), leases.hold(app, lease_key(aid), "me:1:x/job", ttl=60) as lease:
        assert lease.confirm() and not lease.lost.is_set()
        _steal(aid)
        assert not lease.lost.is_set(), "the renewer ticks only every ttl/3"
        assert not lease.confirm() and lease.lost.is_set()


# -- 5. rollback -------------------------------------------------------------------------------

def test_rollback_returns_to_the_version_in_service_before_the_current_one(course):
    app, aid = course.app, course.aid
    with app.app_context():
        a = db.session.get(Assignment, aid)
        for n in (1, 2, 3):
            d = tinymodel.make_version(versions.version_dir(app, aid, n), raw=0.1 * n, assignment_id=aid)
            mv = ModelVersion(assignment_id=aid, version=n, approach="frozen-ridge", path=str(d),
                              onnx_path=str(d / "model.onnx"), metrics={}, gate={})
            db.session.add(mv)
            db.session.flush()
            versions.promote(a, mv)
            mv.promoted_at = utcnow() - timedelta(hours=10 - n)
        db.session.commit()
    assert versions.rollback(app, aid).version == 2          # v3 -> v2
    assert versions.rollback(app, aid).version == 3, "v3 served before v2, not v1"
    assert versions.rollback(app, aid, to_version=1).version == 1
    assert versions.rollback(app, aid).version == 3


def test_a_rollback_made_while_a_training_runs_stands(course, fake):
    """The teacher puts v1 back in service while v3 trains (after its export, before its
    promotion): v3 passes the gate but must not override that choice in silence, nor leave two
    versions "promoted"; it can still be put in service from the version history."""
    import threading

    app, aid = course.app, course.aid
    assert pipeline.train_assignment(app, aid).status == "promoted"
    fake.new_qwk = 0.95
    assert pipeline.train_assignment(app, aid).status == "promoted"      # v2 replaces v1
    fake.new_qwk = 0.99

    def teacher_rolls_back(model_dir):   # from another request, as the dashboard's button does
        t = threading.Thread(target=versions.rollback, args=(app, aid), kwargs={"to_version": 1})
        t.start()
        t.join(30)

    fake.on["export"] = teacher_rolls_back
    v3 = pipeline.train_assignment(app, aid)
    state = _state(app, aid)
    assert v3.version == 3 and v3.status != "promoted"
    assert state.current == 1 and list(state.versions.values()).count("promoted") == 1
    assert "version 1 was put in service while it trained, and that choice stands" in state.message
    assert versions.rollback(app, aid, to_version=3).version == 3     # the teacher may still choose it


def test_an_assignment_deleted_during_its_training_ends_the_run_quietly(course, fake):
    """The teacher deletes the course's data while the worker trains: the run's row is gone with
    it. The pipeline says so (`AssignmentGone`, which the handler acknowledges) instead of failing
    on the deleted row (ObjectDeletedError, then a retry for nothing)."""
    from lti_app.coursework.data_admin import delete_course_data

    app, aid = course.app, course.aid

    def course_deleted_then_training_fails():
        with app.app_context():
            delete_course_data(db.session.get(Assignment, aid).course_id)
        raise RuntimeError("the grades vanished under the trainer")

    fake.on["retrain"] = course_deleted_then_training_fails
    with pytest.raises(pipeline.AssignmentGone):
        pipeline.train_assignment(app, aid)
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(TrainingRun)) == 0
        assert not versions.version_dir(app, aid, 1).exists()


@pytest.mark.parametrize("progress_after", [False, True], ids=["at-the-end", "progress-write"])
def test_a_new_assignment_given_a_deleted_ones_id_never_gets_its_model(course, fake, progress_after):
    """SQLite (the embedded default) hands a deleted row's id to the next row when it was the
    highest. The teacher deletes the course's data while the worker trains; another course then
    creates an assignment (the same id) and imports graded essays (the same submission ids, so the
    deleted-essays check counts none missing), and another worker's run takes the run's row id.
    The run must not finish as that assignment's model (it learnt from the first course's essays
    and its teachers' comments), nor write its progress over the other run's row."""
    from lti_app.coursework.data_admin import delete_course_data

    app, aid = course.app, course.aid
    taken = {}

    def course_deleted_and_its_ids_taken():
        with app.app_context():
            taken["ours"] = db.session.scalar(db.select(db.func.max(TrainingRun.id)))
            delete_course_data(db.session.get(Assignment, aid).course_id)
            newcomer = make_assignment(min_graded=15, retrain_every=5)
            add_graded(newcomer, 20)
            elsewhere = make_assignment()
            other = TrainingRun(assignment_id=elsewhere.id, status="running", phase="data", message="theirs")
            db.session.add(other)
            db.session.commit()
            taken.update(assignment=newcomer.id, run=other.id)

    fake.on["retrain"] = course_deleted_and_its_ids_taken
    fake.on["progress_after_retrain"] = progress_after
    with pytest.raises(pipeline.AssignmentGone):
        pipeline.train_assignment(app, aid)
    with app.app_context():
        assert taken["assignment"] == aid, "SQLite reused the assignment's id (else this proves nothing)"
        assert taken["run"] == taken["ours"], "and the run's id"
        assert db.session.scalar(db.select(db.func.count()).select_from(ModelVersion)) == 0
        assert db.session.get(Assignment, aid).current_model_id is None
        other = db.session.get(TrainingRun, taken["run"])
        assert (other.status, other.phase, other.message, other.model_version_id) == ("running", "data", "theirs",
                                                                                       None)
        assert not versions.version_dir(app, aid, 1).exists()
