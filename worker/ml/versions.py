"""Model versions of an assignment: where they live, listing, and rollback.

Every version is kept (promoted, rejected, retired); exactly one promoted version per assignment
is the current model (`Assignment.current_model_id`). Files live under
`<GRADELOOP_DATA_DIR>/models/assignment-<id>/v<version>/`.
"""
from __future__ import annotations

from pathlib import Path

from lti_app.extensions import db
from lti_app.models import Assignment, ModelVersion
from lti_app.models.base import utcnow


def models_root(app) -> Path:
    return Path(app.config["GRADELOOP_DATA_DIR"]) / "models"


def version_dir(app, assignment_id: int, version: int) -> Path:
    return models_root(app) / f"assignment-{assignment_id}" / f"v{version}"


def next_version(assignment_id: int) -> int:
    current = db.session.scalar(db.select(db.func.max(ModelVersion.version))
                                .where(ModelVersion.assignment_id == assignment_id))
    return (current or 0) + 1


def list_versions(app, assignment_id: int) -> list[ModelVersion]:
    with app.app_context():
        rows = db.session.scalars(db.select(ModelVersion).where(ModelVersion.assignment_id == assignment_id)
                                  .order_by(ModelVersion.version)).all()
        db.session.expunge_all()
        return list(rows)


def promote(assignment: Assignment, version: ModelVersion) -> None:
    """Make `version` the current model; the previously promoted one becomes `retired`."""
    if version.assignment_id != assignment.id:
        raise ValueError(f"version {version.version} belongs to assignment {version.assignment_id}, not {assignment.id}")
    for old in db.session.scalars(db.select(ModelVersion).where(
            ModelVersion.assignment_id == assignment.id, ModelVersion.status == "promoted",
            ModelVersion.id != version.id)):
        old.status = "retired"
    version.status = "promoted"
    version.promoted_at = utcnow()
    assignment.current_model_id = version.id


def rollback(app, assignment_id: int, to_version: int | None = None) -> ModelVersion:
    """Put an earlier version back in service (default: the latest one that was in service
    before the current one). Only versions with an exported graph on disk qualify."""
    from worker.ml import scorer

    with app.app_context():
        assignment = db.session.get(Assignment, assignment_id)
        if assignment is None:
            raise ValueError(f"assignment {assignment_id} does not exist")
        current = db.session.get(ModelVersion, assignment.current_model_id) if assignment.current_model_id else None
        q = db.select(ModelVersion).where(ModelVersion.assignment_id == assignment_id)
        if to_version is not None:
            target = db.session.scalar(q.where(ModelVersion.version == to_version))
            if target is None:
                raise ValueError(f"assignment {assignment_id} has no version {to_version}")
        else:
            below = current.version if current else None
            cands = q.where(ModelVersion.status == "retired", ModelVersion.promoted_at.is_not(None))
            if below is not None:
                cands = cands.where(ModelVersion.version < below)
            target = db.session.scalar(cands.order_by(ModelVersion.version.desc()))
            if target is None:
                raise ValueError(f"assignment {assignment_id} has no earlier version to roll back to")
        if current is not None and target.id == current.id:
            raise ValueError(f"version {target.version} is already the current model")
        if not target.onnx_path or not Path(target.onnx_path).is_file():
            raise ValueError(f"version {target.version} ({target.status}) has no exported model on disk; "
                             "only versions that passed the gate can serve")
        promote(assignment, target)
        target.gate = {**(target.gate or {}), "rollback": {"from_version": current.version if current else None,
                                                           "at": utcnow().isoformat()}}
        db.session.commit()
        if current is not None:
            scorer.forget(current.path)
        db.session.refresh(target)
        db.session.expunge(target)
        return target
