"""`train_assignment`: the worker's whole retrain of one course model.

build the set -> hold out teacher grades -> train (approach by CV QWK) -> evaluate the new and the
current model on the same held-out essays -> promotion gate -> refit on all grades and export
ONNX (promoted only) -> record the version. Progress goes to a `TrainingRun` row as it happens.
When too few held-out essays are new to the current model (`retrain.holdout_indices`' `fair`),
it is not scored on essays it learnt from: the new model must beat the QWK it had on its own
held-out essays when it was trained (`stored_comparison`). Trait scores are measured and judged
too (`trait_checks`), the current model's as well when it is scored again: they do not decide
promotion, but auto-released grades leave out the scores of traits that did not pass.

Held-out essays the teacher graded with the current model's own proposals in view (review mode):
`gate["held_out_on_own_proposals"]` counts them, `held_out_kept_as_proposed` those whose score the
teacher kept as proposed. When at least `gate.COMPARED_MIN` held-out essays were graded without its
proposal in view (blind grades, held out first by `retrain.holdout_indices`), both models are compared
on those alone (`gate["compared_on"]`); below that they are still compared on, and a reason says so
when the current model stays. Its trait scores are never judged again on them (`_current_traits`).

`reason="erasure"` (a data-protection erasure queued the run): when the current model learnt from
essays that no longer exist, the gate does not ask the new version to beat it (only to pass the
validity checks), and if no new version gets into service (gate failed, too few grades left,
an error) that model is retired: essays then wait for the teacher rather than being scored by a
model that still holds erased data (docs/privacy.md).

`lease`: the training lease (`worker.leases.hold`). It is confirmed before the version directory
is written and before promotion; if another worker has taken it the run fails with `LeaseLost`.
Just before the version is recorded the run checks that every essay it learnt from still exists;
if an erasure or a removed import deleted some meanwhile it fails with `EssaysDeleted` and keeps
nothing (the erasure's own event waits for the lease, then decides the next run). The run
checks its assignment and run rows by id and creation time (`run_identity`): after a course-data
deletion SQLite hands those ids to new rows, and the model must never become another assignment's.
A version directory is created exclusively (`mkdir` fails if it exists), so two runs can never
write the same v<N>, and a failed run removes only a directory it created.
"""
from __future__ import annotations

import logging
import shutil
import time

from flask import current_app
from sqlalchemy.orm.attributes import flag_modified

from lti_app.extensions import db
from lti_app.locking import for_update
from lti_app.models import MIN_TRAINING_ESSAYS, Assignment, ModelVersion, Submission, TrainingRun
from lti_app.models.base import utcnow
from worker.ml import gate, modelfiles, stored_comparison, trait_checks, versions
from worker.ml.metrics import compute_metrics
from worker.ml.run_identity import RunIdentity

log = logging.getLogger(__name__)
PARITY_ESSAYS = 100
# The fewest graded essays a retrain can work with: `trainer.train` needs 10 to fit, and the
# held-out run fits on what is left after holding out `retrain.MIN_HOLDOUT` (5), so 10-14
# essays failed inside training with a plain ValueError (and were retried). Defined beside the
# models because the settings form refuses a lower `min_graded` too, and this module must not
# import torch (the training handler and the scheduler read it);
# tests/worker/test_training_backoff.py checks it against those two constants.
MIN_GRADED = MIN_TRAINING_ESSAYS


class AssignmentGone(LookupError):
    """The assignment was deleted while it trained: nothing to record, nothing to retry."""


class NotEnoughGrades(ValueError):
    """Fewer teacher grades than the assignment's `min_graded` (or than training needs)."""


class LeaseLost(RuntimeError):
    """Another worker took this assignment's training lease while this run was going."""


class EssaysDeleted(RuntimeError):
    """Essays this run learnt from were deleted while it trained (an erasure, a teacher removing an
    imported file): its model must not be kept, promoted or not. The deletion's own `erasure`
    event, deferred while this run held the lease, decides what trains next."""


def _deleted_meanwhile(submission_ids) -> int:
    """How many of these essays no longer exist."""
    ids = set(submission_ids)
    if not ids:
        return 0
    found = db.session.scalar(db.select(db.func.count(Submission.id)).where(Submission.id.in_(ids)))
    return len(ids) - (found or 0)


def needed_grades(assignment: Assignment) -> int:
    """Graded essays a retrain of `assignment` needs: its `min_graded`, never below MIN_GRADED
    (the settings form accepts smaller values; a run started below it could only fail)."""
    return max(MIN_GRADED, assignment.min_graded or 0)


def _check_lease(lease, before: str) -> None:
    if lease is None:
        return
    ok = lease.confirm() if hasattr(lease, "confirm") else not lease.lost.is_set()
    if not ok:
        raise LeaseLost(f"the training lease was lost before {before} (another worker may be training this "
                        "assignment after a database outage longer than GRADELOOP_LEASE_SECONDS); this run "
                        "stopped: it promotes nothing and leaves no files behind")


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
    TrainingRun row, at most every second, then forwards the phase's own figures. A row that is
    no longer this run's (the course's data deleted meanwhile) ends the run with `AssignmentGone`."""

    def __init__(self, identity: RunIdentity, forward=None, epochs: int = 3, lease=None):
        self.identity, self.forward, self.last, self.epochs = identity, forward, 0.0, epochs
        self.stage, self.lease = "training", lease

    def __call__(self, phase, step, total, eta=None, message=""):
        if self.lease is not None and hasattr(self.lease, "touch"):
            if self.lease.lost.is_set():
                return   # given up (hung, or taken over): the run row says why; leave it
            self.lease.touch()   # the training lease's sign of life (`worker.leases`, stall_seconds)
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
            if not self.identity.holds():
                raise AssignmentGone(f"assignment {self.identity.assignment_id} was deleted during its training")
            r = db.session.get(TrainingRun, self.identity.run_id)
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


def _current_traits(held_set, scored) -> dict | None:
    """{trait: figures} of the current model's trait scores on the held-out essays (`trait_checks.measure`),
    None when the assignment has no traits, there are no essays or the model does not give them all."""
    targets = held_set.targets
    names = [t.name for t in targets[1:]]
    if not names or not scored or any(name not in (p.traits or {}) for p in scored for name in names):
        return None
    rows = [_in_units(held_set, p) for p in scored]
    return trait_checks.measure(held_set, rows)


def _in_units(held_set, prediction) -> list[int]:
    """A prediction of the current model (the assignment's units: whole points, or halves) in the
    held-out set's training units, one per target (overall, then traits): a whole-point version
    judged on a half-point set, or the other way round, is measured on the same scale as the new one."""
    targets = held_set.targets
    return ([targets[0].units(prediction.score)]
            + [t.units(prediction.traits[t.name]["score"]) for t in targets[1:] if t.name in (prediction.traits or {})])


def _graded_on_proposals_of(current, held_set) -> list[int]:
    """The held-out essays (indices) graded with a proposal of `current` (the version in service) in view."""
    if current is None:
        return []
    return [i for i, seen in enumerate(held_set.proposed_by) if current.id in seen]


def _kept(current, held_set, own: list[int]) -> int:
    """How many of `own` have the teacher's score as `current` proposed it (approved as it stood, or
    saved with other words or trait scores but its score): there it agrees by construction."""
    overall = held_set.targets[0]
    return sum(1 for i in own if overall.units(held_set.proposed_by[i][current.id]) == int(held_set.scores[i]))


def _note_own_proposals(decision: dict, own: list[int], kept: int, held: int, compared: bool,
                        without: int) -> None:
    """Record how many held-out essays were graded on the current model's own proposals (`own`) and
    how many of those kept its score (`kept`); when it stays on the whole held-out set, say that it
    agrees with the latter by construction, and how many more essays graded without its proposal
    would let those alone decide (`gate.compared_on`). Below that they are still compared on: a
    teacher who changes the proposals they disagree with gives real grades (a walkthrough's better
    v2 won there, 0.769 against 0.708, and lost against the current model's stored own-test figure,
    0.864, which won it its place); one who changes none gives the current model's own scores, and
    nothing then shows that a new version would do better."""
    decision["held_out_on_own_proposals"], decision["held_out_kept_as_proposed"] = len(own), kept
    decision["held_out_without_proposal"] = without
    if kept and compared and decision["checks"].get("beats_current") is False and "compared_on" not in decision:
        said = (f"{kept} of the {held} essays kept back have the score the current model proposed for them: "
                "it agrees with those by construction")
        if without < gate.COMPARED_MIN:   # at or above, their scores were all one: no comparison to make
            said += (f"; {without} were graded with no proposal in view, and from {gate.COMPARED_MIN} those "
                     "alone decide the comparison")
        decision["reasons"].append(said)


def _current(app, assignment: Assignment):
    """(the current version, its meta.json, why it cannot be used). Files that cannot be read
    (missing, a meta.json truncated by a crash, a bad restore) make it "no usable current model":
    the new version then only has to pass the validity checks, since the retrain is what replaces
    a broken model, and for a first version there is nothing to roll back to."""
    if not assignment.current_model_id:
        return None, None, None
    mv = db.session.get(ModelVersion, assignment.current_model_id)
    if mv is None or mv.assignment_id != assignment.id or not mv.onnx_path:
        return None, None, None
    try:
        return mv, modelfiles.read_meta(versions.model_dir(app, mv)), None
    except Exception as exc:  # noqa: BLE001  whatever is wrong with the files, they cannot compete
        return None, None, _unreadable(assignment, mv, exc)


def _unreadable(assignment: Assignment, mv: ModelVersion, exc: Exception) -> str:
    """Log that the current version's files cannot be read; the gate's reason saying so."""
    log.warning("event=current_model_unreadable assignment_id=%s version=%s detail=%r",
                assignment.id, mv.version, str(exc)[:500])
    return f"current model v{mv.version} could not be read, so it was not compared: {exc}"


def _erased_current(app, assignment: Assignment, reason: str | None) -> ModelVersion | None:
    """The current model, when this is an erasure run and that model learnt from essays that no
    longer exist (or it cannot tell: files unreadable, or an old meta.json without the list)."""
    if reason != "erasure" or not assignment.current_model_id:
        return None
    mv = db.session.get(ModelVersion, assignment.current_model_id)
    if mv is None or mv.assignment_id != assignment.id:
        return None
    try:
        erased = versions.trained_on_erased(app, mv)
    except (OSError, ValueError) as exc:   # files that cannot be read (a database error fails the run)
        _unreadable(assignment, mv, exc)
        erased = None
    return mv if erased is not False else None


RETIRED_FOR_ERASURE = ("it was trained on essays that have since been deleted (a data-protection erasure or "
                       "removed imports), and no retrain replaced it")


def train_assignment(app, assignment_id: int, *, progress=None, reason: str | None = None,
                     lease=None) -> ModelVersion:
    """Retrain the assignment's course model; returns the new (promoted or rejected) version.
    `reason`: what queued the run (`"erasure"` changes the gate, see the module docstring);
    `lease`: the held training lease (anything with `confirm()` or a `lost` event)."""
    with app.app_context():
        return _train(current_app._get_current_object(), assignment_id, progress, reason, lease)


def _train(app, assignment_id: int, progress, reason=None, lease=None) -> ModelVersion:
    from worker.ml import scorer
    from worker.ml.export import export_model, save_torch
    from worker.ml.training_set import load_examples, steps_in_service
    from worker.ml.retrain import retrain

    assignment = db.session.get(Assignment, assignment_id)
    if assignment is None:
        raise LookupError(f"assignment {assignment_id} does not exist")
    run = TrainingRun(assignment_id=assignment_id, status="running", phase="data", message="loading grades")
    db.session.add(run)
    db.session.commit()
    identity = RunIdentity.of(assignment, run)
    report = _RunProgress(identity, progress, lease=lease)
    model_dir, created_dir, erased_id = None, False, None
    try:
        started = time.monotonic()
        erased = _erased_current(app, assignment, reason)
        erased_id = erased.id if erased is not None else None
        current, current_meta, unreadable = _current(app, assignment)
        # A target keeps the step of the model in service unless the teacher's halves clearly changed.
        examples = load_examples(assignment_id, current_steps=steps_in_service(current_meta))
        run.n_examples = len(examples)
        needed = needed_grades(assignment)
        if len(examples) < needed:
            raise NotEnoughGrades(f"{len(examples)} graded essays, need {needed} to train")
        serving_at_start = assignment.current_model_id
        config = _train_config(app)
        report.epochs = config.epochs
        result = retrain(examples, config, seen_ids=(current_meta or {}).get("train_submission_ids"),
                         progress=report)
        held_set = examples.subset(result.held)
        metrics = result.metrics
        report("evaluation", 0, 1, None, "scoring held-out essays with the current model")
        current_metrics, current_error = None, unreadable
        # Held-out essays mostly the current model's own training essays (`result.fair` False): it
        # is compared by its own test figure instead (`stored_comparison`), not scored again there.
        rescore = current is not None and (result.fair or erased is not None)
        own_proposals = _graded_on_proposals_of(current, held_set)
        current_traits, compared = None, None
        if rescore:
            try:
                cur_scored = scorer.score(str(versions.model_dir(app, current)), held_set.texts)
            except Exception as exc:  # noqa: BLE001  a broken current model must not block a new one
                current_error = f"current model v{current.version} could not score: {exc}"
                log.warning("assignment %s: %s", assignment_id, current_error)
            else:
                # In the held-out set's units, the new version's: its scale may be doubled (half points).
                overall = held_set.targets[0]
                cur_units = [_in_units(held_set, p)[0] for p in cur_scored]
                current_metrics = compute_metrics([int(s) for s in held_set.scores], cur_units,
                                                  overall.lo, overall.hi, held_set.groups, step=overall.step)
                # Enough essays graded without its proposal in view: they alone decide which is better.
                compared = gate.compared_on(held_set, result.held_out_scores, cur_units)
                # Not on essays graded with its own proposals in view: there the teacher's trait
                # scores are its own where kept, and edited proposals are the ones it got wrong.
                own = set(own_proposals)
                others = [i for i in range(len(held_set)) if i not in own]
                current_traits = _current_traits(held_set.subset(others), [cur_scored[i] for i in others])
        # After an erasure the current model must go whatever it scores: the new version only has
        # to be valid on its own (QWK, SMD), not better than a model holding erased essays.
        decision = gate.decide(metrics, current_metrics, must_beat_current=erased is None, compared=compared)
        own_test = None
        if current is not None and not rescore and current_error is None:
            own_test = stored_comparison.compare(decision, metrics, current)
        decision["fair_holdout"] = result.fair
        _note_own_proposals(decision, own_proposals, _kept(current, held_set, own_proposals), len(held_set),
                            compared=current_metrics is not None, without=len(gate.without_proposal(held_set)))
        if examples.traits:
            trait_checks.record(decision, [t["name"] for t in examples.traits], metrics.get("traits"))
        if current_error:
            decision["reasons"].append(current_error)
        trained = result.held_out_model
        train_set = examples.subset([i for i in range(len(examples)) if i not in set(result.held)])

        version = versions.next_version(assignment_id, app)
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
        _check_lease(lease, f"writing {model_dir}")
        # A session this process cached for an earlier v<N> at this path (a failed run's, or one
        # deleted by `erase-user --drop-models`) must not answer for the files written now: the
        # parity check below reads the new graph through the scorer.
        scorer.forget(model_dir)
        model_dir.parent.mkdir(parents=True, exist_ok=True)
        try:
            model_dir.mkdir()   # exclusive: a directory another run is writing is never shared
        except FileExistsError:
            raise LeaseLost(f"{model_dir} appeared while this run was going: another worker is writing version "
                            f"{version} of this assignment; this run stopped without touching it") from None
        created_dir = True
        save_torch(final, model_dir, meta_extra)
        onnx_path = None
        if decision["promote"]:
            report("export", 0, 1, None, "exporting to ONNX")
            parity_set = examples.subset(parity_indices(result.held, len(examples)))
            meta = export_model(final, model_dir, parity_set.texts, parity_set.y_matrix())
            onnx_path = str(model_dir / meta["onnx_file"])
        gone = _deleted_meanwhile(shipped_set.submission_ids)
        if gone:
            raise EssaysDeleted(f"{gone} of the essays this run learnt from were deleted while it trained (an "
                                "erasure or a removed import), so its model was discarded; the next run "
                                "trains on what is left.")
        if decision["promote"]:
            # Before the version row is flushed: that opens this session's write transaction,
            # and on SQLite the lease renewal (its own connection) would wait on it.
            _check_lease(lease, f"promoting version {version}")
        mv = ModelVersion(
            assignment_id=assignment_id, version=version, status="candidate", approach=final.approach,
            path=str(model_dir), onnx_path=onnx_path, n_train=len(shipped_set),
            metrics={"held_out": metrics, "current_on_held_out": current_metrics, "current_own_test": own_test,
                     "train": trained.info,
                     "refit_on_all": refit, "n_held_out": len(result.held), "n_examples": len(examples),
                     "parity": modelfiles.read_meta(model_dir).get("parity"),
                     "seconds": round(time.monotonic() - started, 1)},
            gate=decision)
        db.session.add(mv)
        if current_traits is not None:
            # The version in service judged on these new essays too: one trained before trait
            # checks, or whose traits did not pass, has its trait scores in auto-released grades
            # again once they agree with the teacher's, whether or not this version replaces it.
            current.gate = trait_checks.remeasure(current.gate, current.metrics, list(current_traits), current_traits,
                                                  utcnow().isoformat(), version)
        db.session.flush()
        # Checked after the flush: on SQLite this session now holds the write lock, so nothing can
        # delete the rows (or take their ids) between this check and the commit.
        if not identity.holds():
            raise AssignmentGone(f"assignment {assignment_id} was deleted during its training")
        switched_note = ""
        # Locked and read again: a teacher's rollback committed while this run trained would
        # otherwise be overridden in silence (the gate compared this version with the one serving
        # when the run started), and `promote` / `retire` could miss the version in service.
        serving = db.session.scalar(for_update(db.select(Assignment.current_model_id)
                                               .where(Assignment.id == assignment_id)))
        db.session.refresh(assignment, ["current_model_id"])
        # After an erasure the old model must go, so the new one replaces it, but only while it
        # still serves: a rollback to a version that never saw the erased essays is the teacher's
        # choice, and stands. Nothing serving (the versions were dropped meanwhile): no choice to respect.
        if decision["promote"] and serving != serving_at_start and serving is not None and serving != erased_id:
            decision["promote"] = False
            now = db.session.get(ModelVersion, serving)
            switched_note = (f" It passed the promotion gate, but version {now.version} was put in service "
                             "while it trained, and that choice stands; the version history can put this one "
                             "in service.")
            decision["reasons"].append("not put in service: the version in service changed while it trained")
            decision["kept_out"] = {"why": "chosen_meanwhile", "serving_version": now.version}
            flag_modified(mv, "gate")   # the JSON column does not see changes made in place
        if decision["promote"]:
            versions.promote(assignment, mv)
        else:
            mv.status = "rejected"
        retired_note = ""
        old = db.session.get(ModelVersion, erased_id) if erased_id is not None else None
        if old is not None:
            # Replaced or not, the model holding erased essays never serves again (a rollback
            # refuses it too); without a replacement essays wait for the teacher.
            versions.retire(assignment, old, RETIRED_FOR_ERASURE if not decision["promote"] else
                            "it was trained on essays that have since been deleted")
            scorer.forget(versions.model_dir(app, old))
            if not decision["promote"] and assignment.current_model_id is None:
                retired_note = (f" Version {old.version} was trained on deleted essays and no longer scores: "
                                "new essays wait for you until a version passes the gate.")
                log.warning("event=model_retired reason=erasure assignment_id=%s version=%s gate=%r",
                            assignment_id, old.version, decision["reasons"])
        run.status, run.phase, run.finished_at = "done", "done", utcnow()
        run.model_version_id = mv.id
        run.step = run.total_steps = BAR_STEPS
        run.eta_seconds = 0.0
        detail = "; ".join(r.removeprefix("passed: ") for r in decision["reasons"])
        run.message = (f"Version {version} passed the promotion gate and is in service ({detail})."
                       if decision["promote"] else
                       f"Version {version} did not pass the promotion gate and is not in service: {detail}."
                       if not switched_note else f"Version {version} is not in service.{switched_note}") + retired_note
        db.session.commit()
        log.info("assignment %s: version %s %s (%s), n=%s", assignment_id, version, mv.status,
                 decision["reasons"], len(shipped_set))
        db.session.refresh(mv)
        return mv
    except Exception as exc:
        db.session.rollback()
        # Only a directory this run created: after a lost lease the same v<N> may be another
        # worker's, which it is still writing.
        if created_dir and model_dir.exists() and not db.session.scalar(
                db.select(ModelVersion.id).where(ModelVersion.path == str(model_dir))):
            shutil.rmtree(model_dir, ignore_errors=True)  # no half-written version left behind
        if model_dir is not None:
            # The parity check cached sessions of the graphs just deleted; the retry writes the
            # same v<N> again and must not be read through them.
            scorer.forget(model_dir)
        run = db.session.get(TrainingRun, identity.run_id) if identity.holds() else None
        if run is None:   # the teacher deleted the course's data meanwhile (runs go with it)
            db.session.commit()
            log.info("event=training_abandoned reason=assignment_deleted assignment_id=%s error=%r",
                     assignment_id, str(exc)[:200])
            raise AssignmentGone(f"assignment {assignment_id} was deleted during its training") from exc
        if not (isinstance(exc, LeaseLost) and run.status == "failed"):
            # (Already failed: whoever took the run from this one said why, e.g. a hung training
            # given up in `worker.leases`; that reason stands.)
            run.status, run.finished_at = "failed", utcnow()
            run.message = f"{type(exc).__name__}: {exc}"[:2000]
        if erased_id is not None:
            old = db.session.get(ModelVersion, erased_id)
            assignment = db.session.get(Assignment, assignment_id)
            if old is not None and assignment is not None and assignment.current_model_id == old.id:
                versions.retire(assignment, old, RETIRED_FOR_ERASURE)
                scorer.forget(versions.model_dir(app, old))
                run.message = (run.message[:1700] + f" Version {old.version} was trained on deleted essays and no "
                               "longer scores: new essays wait for you until a version passes the gate.")
                log.warning("event=model_retired reason=erasure assignment_id=%s version=%s run_failed=%r",
                            assignment_id, old.version, str(exc)[:200])
        db.session.commit()
        raise
