"""`train_assignment`: the worker's whole retrain of one course model.

build the set -> hold out teacher grades -> train (approach by CV QWK) -> evaluate the new and the
current model on the same held-out essays -> promotion gate -> refit on all grades and export
ONNX (promoted only) -> record the version. Progress goes to a `TrainingRun` row as it happens.
"""
from __future__ import annotations

import logging
import shutil
import time

from flask import current_app

from lti_app.extensions import db
from lti_app.models import Assignment, ModelVersion, TrainingRun
from lti_app.models.base import utcnow
from worker.ml import gate, modelfiles, versions
from worker.ml.metrics import compute_metrics

log = logging.getLogger(__name__)
PARITY_ESSAYS = 100


class NotEnoughGrades(ValueError):
    """Fewer teacher grades than the assignment's `min_graded` (or than training needs)."""


def _train_config(app, seed: int = 0):
    from worker.ml.general import load_default
    from worker.ml.trainer import TrainConfig

    cfg = app.config
    return TrainConfig(base_model=cfg["GRADELOOP_BASE_MODEL"], device=cfg.get("GRADELOOP_DEVICE"), seed=seed,
                       budget_seconds=float(cfg.get("GRADELOOP_TRAIN_BUDGET_S", 150)),
                       finetune=cfg.get("GRADELOOP_FINETUNE", "auto"), general=load_default(cfg),
                       encoder_layers=cfg.get("GRADELOOP_ENCODER_LAYERS"))


# The progress bar covers the whole run: each stage of `_train` gets a share of the bar (roughly
# its share of the time at N=300 on 2 cores: held-out training 30 s, refit 10 s, export and parity
# 10 s), and the phases `trainer.train` reports map into the stage that runs them. A bar that
# restarted at every phase read "done" at 100% after the held-out fit, with refit and export ahead.
STAGES = {"training": (0.0, 0.6), "evaluation": (0.6, 0.62), "refit": (0.62, 0.8), "export": (0.8, 1.0)}
TRAIN_PHASES = {"features": (0.0, 0.6), "cross-validation": (0.6, 0.75), "fine-tune": (0.75, 1.0)}
BAR_STEPS = 1000


class _RunProgress:
    """Writes the whole run's progress (phase, step of `BAR_STEPS`, ETA of the phase) to the
    TrainingRun row, at most every second, then forwards the phase's own figures."""

    def __init__(self, run: TrainingRun, forward=None, epochs: int = 3):
        self.run, self.forward, self.last, self.epochs = run, forward, 0.0, epochs
        self.stage = "training"

    def __call__(self, phase, step, total, eta=None, message=""):
        within = min(1.0, step / total) if total else 0.0
        if phase in STAGES:
            self.stage = phase
        else:  # a phase of trainer.train ("done": the trainer has chosen its model)
            lo, hi = TRAIN_PHASES.get(phase, (1.0, 1.0))
            within = lo + (hi - lo) * within
        lo, hi = STAGES[self.stage]
        now = time.monotonic()
        if now - self.last >= 1.0 or step in (0, total):
            self.last = now
            r = self.run
            if phase != "done":   # the trainer's "done" ends a stage, not the run: keep the label
                r.phase = phase
            r.step = max(r.step or 0, min(BAR_STEPS - 1, int(BAR_STEPS * (lo + (hi - lo) * within))))
            r.total_steps, r.eta_seconds = BAR_STEPS, eta
            r.message = message[:2000]
            if phase == "fine-tune" and total:
                r.epoch = round(step / max(1, total) * self.epochs, 2)
            db.session.commit()
        if self.forward:
            self.forward(phase, step, total, eta, message)


def parity_indices(held: list[int], n_examples: int, limit: int = PARITY_ESSAYS) -> list[int]:
    """Essays for the int8-vs-torch parity check: the held-out ones first, then other graded
    essays, up to `limit`. Parity compares two forms of the same model, so graded essays it
    learnt from are fair game, and the 10 held-out essays of a 50-essay course alone made the
    QWK-drop rule a coin toss (one changed score moves QWK by more than 0.005)."""
    held_ids = set(held)
    return (list(held) + [i for i in range(n_examples) if i not in held_ids])[:limit]


def _current(assignment: Assignment):
    if not assignment.current_model_id:
        return None, None
    mv = db.session.get(ModelVersion, assignment.current_model_id)
    if mv is None or mv.assignment_id != assignment.id or not mv.onnx_path:
        return None, None
    try:
        return mv, modelfiles.read_meta(mv.path)
    except FileNotFoundError:
        return None, None


def train_assignment(app, assignment_id: int, *, progress=None) -> ModelVersion:
    """Retrain the assignment's course model; returns the new (promoted or rejected) version."""
    with app.app_context():
        return _train(current_app._get_current_object(), assignment_id, progress)


def _train(app, assignment_id: int, progress) -> ModelVersion:
    from worker.ml import scorer
    from worker.ml.export import export_model, save_torch
    from worker.ml.training_set import load_examples
    from worker.ml.retrain import retrain

    assignment = db.session.get(Assignment, assignment_id)
    if assignment is None:
        raise LookupError(f"assignment {assignment_id} does not exist")
    run = TrainingRun(assignment_id=assignment_id, status="running", phase="data", message="loading grades")
    db.session.add(run)
    db.session.commit()
    report = _RunProgress(run, progress)
    model_dir = None
    try:
        started = time.monotonic()
        examples = load_examples(assignment_id)
        run.n_examples = len(examples)
        needed = max(10, assignment.min_graded or 0)
        if len(examples) < needed:
            raise NotEnoughGrades(f"{len(examples)} graded essays, need {needed} to train")
        current, current_meta = _current(assignment)
        config = _train_config(app)
        report.epochs = config.epochs
        result = retrain(examples, config, seen_ids=(current_meta or {}).get("train_submission_ids"),
                         progress=report)
        held_set = examples.subset(result.held)
        metrics = result.metrics
        report("evaluation", 0, 1, None, "scoring held-out essays with the current model")
        current_metrics, current_error = None, None
        if current is not None:
            try:
                cur_pred = [p.score for p in scorer.score(current.path, held_set.texts)]
            except Exception as exc:  # noqa: BLE001  a broken current model must not block a new one
                current_error = f"current model v{current.version} could not score: {exc}"
                log.warning("assignment %s: %s", assignment_id, current_error)
            else:
                current_metrics = compute_metrics([int(s) for s in held_set.scores], cur_pred,
                                                  assignment.score_min, assignment.score_max, held_set.groups)
        decision = gate.decide(metrics, current_metrics)
        decision["fair_holdout"] = result.fair
        if current_error:
            decision["reasons"].append(current_error)
        trained = result.held_out_model
        train_set = examples.subset([i for i in range(len(examples)) if i not in set(result.held)])

        version = versions.next_version(assignment_id)
        model_dir = versions.version_dir(app, assignment_id, version)
        final, refit = trained, False
        if decision["promote"]:
            # The gate judged the held-out run; the shipped model learns from every grade.
            report("refit", 0, 1, None, "refitting on all grades")
            final, _ = result.refit(examples, config, progress=report)
            refit = final is not trained
        shipped_set = examples if refit else train_set
        meta_extra = {"assignment_id": assignment.id, "course_id": assignment.course_id, "version": version,
                      "train_submission_ids": list(shipped_set.submission_ids)}
        save_torch(final, model_dir, meta_extra)
        onnx_path = None
        if decision["promote"]:
            report("export", 0, 1, None, "exporting to ONNX")
            parity_set = examples.subset(parity_indices(result.held, len(examples)))
            meta = export_model(final, model_dir, parity_set.texts, parity_set.y_matrix())
            onnx_path = str(model_dir / meta["onnx_file"])
        mv = ModelVersion(
            assignment_id=assignment_id, version=version, status="candidate", approach=final.approach,
            path=str(model_dir), onnx_path=onnx_path, n_train=len(shipped_set),
            metrics={"held_out": metrics, "current_on_held_out": current_metrics, "train": trained.info,
                     "refit_on_all": refit, "n_held_out": len(result.held), "n_examples": len(examples),
                     "parity": modelfiles.read_meta(model_dir).get("parity"),
                     "seconds": round(time.monotonic() - started, 1)},
            gate=decision)
        db.session.add(mv)
        db.session.flush()
        if decision["promote"]:
            versions.promote(assignment, mv)
        else:
            mv.status = "rejected"
        run.status, run.phase, run.finished_at = "done", "done", utcnow()
        run.model_version_id = mv.id
        run.step = run.total_steps = BAR_STEPS
        run.eta_seconds = 0.0
        detail = "; ".join(r.removeprefix("passed: ") for r in decision["reasons"])
        run.message = (f"Version {version} passed the promotion gate and is in service ({detail})."
                       if decision["promote"] else
                       f"Version {version} did not pass the promotion gate and is not in service: {detail}.")
        db.session.commit()
        log.info("assignment %s: version %s %s (%s), n=%s", assignment_id, version, mv.status,
                 decision["reasons"], len(shipped_set))
        db.session.refresh(mv)
        return mv
    except Exception as exc:
        db.session.rollback()
        if model_dir is not None and model_dir.exists() and not db.session.scalar(
                db.select(ModelVersion.id).where(ModelVersion.path == str(model_dir))):
            shutil.rmtree(model_dir, ignore_errors=True)  # no half-written version left behind
        run = db.session.get(TrainingRun, run.id)
        run.status, run.finished_at = "failed", utcnow()
        run.message = f"{type(exc).__name__}: {exc}"[:2000]
        db.session.commit()
        raise
