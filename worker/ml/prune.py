"""Delete the files of old model versions (`gradeloop model prune`); every version otherwise
stays on disk for ever (~20 MB each).

Only files go. The row stays, metrics and gate included: the dashboard's version history and
QWK-per-essays curve are drawn from every row, training runs and AI proposals point at it (ON
DELETE SET NULL would silently cut those links), and numbering continues from the highest row.
A pruned row gets `onnx_path = None` and `gate["pruned"]`, so rollback refuses it from the row
alone (`versions.why_unusable`: no exported model) and `model list` says why.

Never pruned: the version in service, the one a rollback would return to, the newest `keep`,
and any assignment whose training lease is held (its run writes a version no row names yet and
may promote it, which changes both of the former). Directories no row names are left to the
scheduler (`orphan_model_dirs`).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from lti_app.coursework.data_admin import remove_model_files
from lti_app.extensions import db
from lti_app.locking import for_update
from lti_app.models import Assignment, ModelVersion
from lti_app.models.base import utcnow
from worker import leases
from worker.handlers.training import lease_key
from worker.ml import versions


@dataclass
class Pruned:
    assignment_id: int
    version: int
    status: str
    path: str
    bytes: int


@dataclass
class Report:
    pruned: list[Pruned] = field(default_factory=list)
    skipped: dict[int, str] = field(default_factory=dict)   # assignment id -> why

    @property
    def freed_bytes(self) -> int:
        return sum(p.bytes for p in self.pruned)


def disk_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) if path.is_dir() else 0


def _prunable(app, assignment: Assignment, keep: int) -> list[ModelVersion]:
    rows = db.session.scalars(db.select(ModelVersion).where(ModelVersion.assignment_id == assignment.id)
                              .order_by(ModelVersion.version.desc())).all()
    target, _ = versions.rollback_target(app, assignment)
    kept = {mv.id for mv in rows[:keep]} | {assignment.current_model_id, target.id if target else None}
    return [mv for mv in rows if mv.id not in kept and versions.model_dir(app, mv).is_dir()]


def _prune_assignment(app, assignment_id: int, keep: int, dry_run: bool, report: Report) -> None:
    if leases.holder(lease_key(assignment_id)) is not None:
        report.skipped[assignment_id] = "a training is running (it may write or promote a version)"
        return
    # Locked (on SQLite too: `for_update`) as `versions.rollback` locks it before reading the
    # versions: a rollback waits until the plan is committed and then refuses a pruned version,
    # or it commits first and this plan keeps the version it put back.
    query = db.select(Assignment).where(Assignment.id == assignment_id)
    assignment = db.session.scalars((query if dry_run else for_update(query))
                                    .execution_options(populate_existing=True)).one_or_none()
    if assignment is None:
        report.skipped[assignment_id] = "no such assignment"
        return
    doomed = [(mv, versions.model_dir(app, mv)) for mv in _prunable(app, assignment, keep)]
    found = [Pruned(assignment_id, mv.version, mv.status, str(where), disk_bytes(where)) for mv, where in doomed]
    report.pruned += found
    if dry_run:
        db.session.rollback()
        return
    for (mv, _), entry in zip(doomed, found):
        mv.gate = {**(mv.gate or {}), "pruned": {"at": utcnow().isoformat(), "bytes": entry.bytes,
                                                 "onnx_file": Path(mv.onnx_path).name if mv.onnx_path else None}}
        mv.onnx_path = None
    # Rows first, files after the commit (as data_admin does): a crash in between leaves files a
    # pruned row still names, and the next prune removes them.
    db.session.commit()
    remove_model_files([str(where) for _, where in doomed])
    for (_, where), entry in zip(doomed, found):
        entry.bytes -= disk_bytes(where)   # what is really gone: a path outside the data dir is refused


def prune(app, keep: int, assignment_id: int | None = None, dry_run: bool = False) -> Report:
    """`keep`: newest versions per assignment (the CLI's --keep, default 3), besides the ones
    that serve or would serve after a rollback."""
    if keep < 0:
        raise ValueError("keep must be 0 or more")
    report = Report()
    with app.app_context():
        ids = [assignment_id] if assignment_id is not None else list(db.session.scalars(
            db.select(ModelVersion.assignment_id).distinct().order_by(ModelVersion.assignment_id)))
        for aid in ids:
            _prune_assignment(app, aid, keep, dry_run, report)
    return report
