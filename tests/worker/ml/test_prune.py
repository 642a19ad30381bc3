"""`gradeloop model prune`: old versions' files go, the rows (metrics, history) stay, and what
serves, what a rollback would put back, and an assignment a training is writing to are never
touched. Real rows on SQLite and real files in a tmp data dir (tinymodel.py), no training."""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest

from lti_app.extensions import db
from lti_app.models import Assignment, ModelVersion
from lti_app.models.base import utcnow
from tests.worker.coursework import make_assignment
from tests.worker.ml import tinymodel
from worker import leases
from worker.handlers.training import lease_key
from worker.ml import versions
from worker.ml.cli import model_group
from worker.ml.prune import prune


def _dir_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def _history(app) -> int:
    """v1..v6 promoted one after another, v7..v9 rejected (torch weights, no graph), then a
    rollback to v2: v2 serves, v6 is what the next rollback returns to, v7-v9 are the newest."""
    a = make_assignment()
    for n in range(1, 10):
        d = versions.version_dir(app, a.id, n)
        if n <= 6:
            tinymodel.make_version(d, raw=0.1 * n, assignment_id=a.id)
        else:
            tinymodel.write_meta(d, assignment_id=a.id)
            (d / "head.pt").write_bytes(b"\0" * 50_000)
        mv = ModelVersion(assignment_id=a.id, version=n, approach="frozen-ridge", path=str(d),
                          onnx_path=str(d / "model.onnx") if n <= 6 else None, metrics={"held_out": {"qwk": 0.7}},
                          gate={}, status="candidate" if n <= 6 else "rejected")
        db.session.add(mv)
        db.session.flush()
        if n <= 6:
            versions.promote(a, mv)
            mv.promoted_at = utcnow() - timedelta(hours=10 - n)
    db.session.commit()
    aid = a.id
    assert versions.rollback(app, aid, to_version=2).version == 2
    return aid


@pytest.fixture
def course(make_app):
    app = make_app()
    with app.app_context():
        aid = _history(app)
    return SimpleNamespace(app=app, aid=aid, dir=lambda n: versions.version_dir(app, aid, n))


def _state(course) -> dict:
    """{version: (files on disk, status, onnx_path)}: everything prune could change."""
    with course.app.app_context():
        return {mv.version: (sorted(p.name for p in course.dir(mv.version).glob("*")), mv.status, mv.onnx_path)
                for mv in db.session.scalars(db.select(ModelVersion).filter_by(assignment_id=course.aid))}


def test_keeps_the_newest_the_serving_one_and_the_rollback_target(course):
    sizes = {n: _dir_bytes(course.dir(n)) for n in range(1, 10)}
    out = course.app.test_cli_runner().invoke(model_group, ["prune", "--assignment", str(course.aid)])
    assert out.exit_code == 0, out.output
    on_disk = {n for n in range(1, 10) if course.dir(n).is_dir()}
    assert on_disk == {7, 8, 9, 2, 6}, "3 newest + in service (v2) + rollback target (v6)"
    freed = sum(sizes[n] for n in (1, 3, 4, 5))
    assert f"{freed / 1e6:.1f} MB" in out.output
    for n in (1, 3, 4, 5):
        assert f"v{n} " in out.output
    with course.app.app_context():
        rows = {mv.version: mv
                for mv in db.session.scalars(db.select(ModelVersion).filter_by(assignment_id=course.aid))}
        assert set(rows) == set(range(1, 10)), "rows stay: the dashboard's history and QWK curve read them"
        assert rows[3].metrics == {"held_out": {"qwk": 0.7}}
        assert rows[3].onnx_path is None and rows[3].gate["pruned"]["bytes"] == sizes[3]
        assert rows[6].onnx_path is not None and "pruned" not in (rows[6].gate or {})
    listed = course.app.test_cli_runner().invoke(model_group, ["list", "--assignment", str(course.aid)]).output
    assert "files pruned" in next(ln for ln in listed.splitlines() if ln.startswith("v3\t"))
    again = course.app.test_cli_runner().invoke(model_group, ["prune", "--assignment", str(course.aid)])
    assert again.exit_code == 0 and "freed 0.0 MB" in again.output


def test_bytes_freed_and_keep(course):
    sizes = {n: _dir_bytes(course.dir(n)) for n in range(1, 10)}
    report = prune(course.app, keep=1, assignment_id=course.aid)
    assert sorted(p.version for p in report.pruned) == [1, 3, 4, 5, 7, 8]
    assert report.freed_bytes == sum(sizes[n] for n in (1, 3, 4, 5, 7, 8))
    assert {n for n in range(1, 10) if course.dir(n).is_dir()} == {9, 2, 6}


def test_dry_run_deletes_nothing(course):
    before = _state(course)
    out = course.app.test_cli_runner().invoke(model_group, ["prune", "--dry-run"])
    assert out.exit_code == 0, out.output
    assert _state(course) == before
    assert "would delete" in out.output and "would free" in out.output
    for n in (1, 3, 4, 5):
        assert f"v{n} " in out.output


def test_an_assignment_under_a_training_lease_is_left_alone(course):
    """A running training may be writing v10 (no row yet) and may promote it, which changes what
    serves and what a rollback returns to: nothing of that assignment is touched until it ends.
    Other assignments are pruned meanwhile."""
    app = course.app
    with app.app_context():
        other = _history(app)
        assert leases.acquire(lease_key(course.aid), "worker-1/training", ttl=60)
    writing = course.dir(10)
    tinymodel.write_meta(writing, assignment_id=course.aid)
    before = _state(course)
    out = app.test_cli_runner().invoke(model_group, ["prune"])
    assert out.exit_code == 0, out.output
    assert _state(course) == before and writing.is_dir()
    assert f"assignment {course.aid}: skipped" in out.output
    assert not versions.version_dir(app, other, 1).is_dir(), "the other assignment was pruned"
    with app.app_context():
        leases.release(lease_key(course.aid), "worker-1/training")
    prune(app, keep=3)
    assert not course.dir(1).is_dir()
    assert writing.is_dir(), "a directory no row names is the scheduler's (orphan_model_dirs), never prune's"


def test_rollback_still_works_after_a_prune(course):
    prune(course.app, keep=3)
    assert versions.rollback(course.app, course.aid).version == 6
    assert versions.rollback(course.app, course.aid).version == 2
    with pytest.raises(ValueError, match="no exported model"):
        versions.rollback(course.app, course.aid, to_version=3)
    out = course.app.test_cli_runner().invoke(model_group, ["rollback", "--assignment", str(course.aid), "--to", "4"])
    assert out.exit_code != 0 and "gradeloop model prune" in out.output
    with course.app.app_context():
        a = db.session.get(Assignment, course.aid)
        assert db.session.get(ModelVersion, a.current_model_id).version == 2
