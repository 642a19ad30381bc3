"""Model versions of an assignment: where they live, listing, promotion, retirement, rollback.

Every version's row is kept (promoted, rejected, retired; `gradeloop model prune` deletes old
versions' files and marks their rows, never the serving one nor the rollback target: prune.py);
at most one promoted version per assignment
is the current model (`Assignment.current_model_id`). Files live under
`<GRADELOOP_DATA_DIR>/models/assignment-<id>/v<version>/`; `model_dir` finds them again after the
data dir moved (`modelfiles.resolve_dir`).

Rollback's default is the version that was in service before the current one, i.e. the retired
version promoted most recently (`promoted_at`, which a rollback sets again), not the highest
version number: after v3 -> rollback to v2, rolling back again returns to v3. A version trained on
essays that were erased since (`trained_on_erased`) is never put back in service.
"""
from __future__ import annotations

from pathlib import Path

from lti_app.extensions import db
from lti_app.locking import for_update
from lti_app.models import Assignment, ModelVersion, Submission
from lti_app.models.base import utcnow
from worker.ml import modelfiles


def models_root(app) -> Path:
    return Path(app.config["GRADELOOP_DATA_DIR"]) / modelfiles.MODELS


def version_dir(app, assignment_id: int, version: int) -> Path:
    return models_root(app) / f"assignment-{assignment_id}" / f"v{version}"


def model_dir(app, mv: ModelVersion) -> Path:
    """Where `mv`'s files are now (its stored path, or the same version under a moved data dir)."""
    return modelfiles.resolve_dir(mv.path, app.config.get("GRADELOOP_DATA_DIR"))


def next_version(assignment_id: int, app=None) -> int:
    """One more than the highest version number in the database, and (given `app`) past any
    v<N> directory still on disk. `erase-user --drop-models` deletes the rows, so numbering
    starts again at 1; its files are removed after its commit, and a directory that could not be
    removed (or not yet) must never receive a new version's files: stale graphs would mix in."""
    current = db.session.scalar(db.select(db.func.max(ModelVersion.version))
                                .where(ModelVersion.assignment_id == assignment_id))
    version = (current or 0) + 1
    if app is not None:
        while version_dir(app, assignment_id, version).exists():
            version += 1
    return version


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


def retire(assignment: Assignment, version: ModelVersion, why: str) -> None:
    """Take `version` out of service with no successor: the assignment has no current model, so
    new essays wait for the teacher (the scoring handler skips them). Used when a model still
    holds erased essays and no retrain could replace it. Caller commits."""
    version.status = "retired"
    version.gate = {**(version.gate or {}), "retired": {"reason": why, "at": utcnow().isoformat()}}
    if assignment.current_model_id == version.id:
        assignment.current_model_id = None


def trained_on_erased(app, mv: ModelVersion) -> bool | None:
    """True when `mv` learnt from essays that no longer exist: `gradeloop privacy erase-user`
    deletes a person's essays, and a teacher may remove an assignment's imported essays (a wrong
    file); otherwise only deleting the whole assignment deletes essays, versions included. None when its meta.json is unreadable or predates the list
    of training essays (`train_submission_ids`), i.e. unknown."""
    try:
        ids = modelfiles.read_meta(model_dir(app, mv)).get("train_submission_ids")
    except (FileNotFoundError, ValueError):
        return None
    if ids is None:
        return None
    ids = set(ids)
    if not ids:
        return False
    held = 0
    chunk = list(ids)
    for start in range(0, len(chunk), 500):   # stay under SQLite's bound-parameter limit
        held += db.session.scalar(db.select(db.func.count(Submission.id)).where(
            Submission.id.in_(chunk[start:start + 500]))) or 0
    return held < len(ids)


def why_unusable(app, mv: ModelVersion) -> str | None:
    """Why `mv` cannot serve, or None."""
    onnx = Path(mv.onnx_path) if mv.onnx_path else None
    if onnx is not None and not onnx.is_file():
        onnx = model_dir(app, mv) / onnx.name   # the data dir moved since it was written
    if onnx is None or not onnx.is_file():
        return (f"version {mv.version} ({mv.status}) has no exported model on disk; "
                "only versions that passed the gate can serve")
    retired = (mv.gate or {}).get("retired")
    if retired:   # taken out of service because it held erased essays (`retire`)
        return f"version {mv.version} was taken out of service: {retired.get('reason')}"
    if trained_on_erased(app, mv):
        return (f"version {mv.version} was trained on essays that have since been deleted "
                "(a data-protection erasure or removed imports), so it cannot serve again")
    return None


def rollback_target(app, assignment: Assignment) -> tuple[ModelVersion | None, list[str]]:
    """The version a rollback without `--to` puts back in service, and why the ones passed over
    cannot serve (`model prune` keeps this version)."""
    # The previously serving version is the one promoted last before the current one. Version
    # numbers say when a version was trained, not when it served: after a rollback from v3 to v2
    # the version before v2 is v3, not v1.
    cands = db.select(ModelVersion).where(ModelVersion.assignment_id == assignment.id,
                                          ModelVersion.status == "retired", ModelVersion.promoted_at.is_not(None))
    if assignment.current_model_id is not None:
        cands = cands.where(ModelVersion.id != assignment.current_model_id)
    problems = []
    for mv in db.session.scalars(cands.order_by(ModelVersion.promoted_at.desc(), ModelVersion.version.desc())):
        problem = why_unusable(app, mv)
        if problem is None:
            return mv, problems
        problems.append(problem)
    return None, problems


def rollback(app, assignment_id: int, to_version: int | None = None) -> ModelVersion:
    """Put an earlier version back in service (default: the one that was in service before the
    current one, by `promoted_at`). Only versions with an exported graph on disk, not trained on
    erased essays, qualify; raises ValueError with the reason."""
    from worker.ml import scorer

    with app.app_context():
        # Locked before the versions are read: a `model prune` planning at the same time either
        # commits first (its pruned rows are then read here and refused) or waits for this one.
        assignment = db.session.scalars(for_update(db.select(Assignment).where(Assignment.id == assignment_id))
                                        .execution_options(populate_existing=True)).one_or_none()
        if assignment is None:
            raise ValueError(f"assignment {assignment_id} does not exist")
        current = db.session.get(ModelVersion, assignment.current_model_id) if assignment.current_model_id else None
        q = db.select(ModelVersion).where(ModelVersion.assignment_id == assignment_id)
        if to_version is not None:
            target = db.session.scalar(q.where(ModelVersion.version == to_version))
            if target is None:
                raise ValueError(f"assignment {assignment_id} has no version {to_version}")
            if current is not None and target.id == current.id:
                raise ValueError(f"version {target.version} is already the current model")
            problem = why_unusable(app, target)
            if problem:
                raise ValueError(problem)
        else:
            target, problems = rollback_target(app, assignment)
            if target is None:
                raise ValueError(f"assignment {assignment_id} has no earlier version to roll back to"
                                 + (f" ({'; '.join(problems)})" if problems else ""))
        promote(assignment, target)
        target.gate = {**(target.gate or {}), "rollback": {"from_version": current.version if current else None,
                                                           "at": utcnow().isoformat()}}
        db.session.commit()
        if current is not None:
            scorer.forget(model_dir(app, current))
        db.session.refresh(target)
        db.session.expunge(target)
        return target
