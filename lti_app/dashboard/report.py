"""Figures the dashboard shows, from stored rows only (`ModelVersion.metrics` written by the
training pipeline, `TrainingRun` progress): plain dicts and chart SVG, no HTTP."""
from __future__ import annotations

from datetime import datetime, timedelta

from lti_app import charts
from lti_app.charts.confusion import banded
from lti_app.dashboard import wording
from lti_app.extensions import db
from lti_app.models import Assignment, ModelVersion, OutboxEvent, ProcessedMessage, TrainingRun
from lti_app.models.base import utcnow
from lti_app.timestamps import utc_iso


def training_status(assignment_id: int) -> dict:
    """The latest training run as the progress bar's JSON (`fraction` in 0..1), in a teacher's words
    (`wording`). `announce` is the short status a screen reader hears when it changes (no ETA, whole
    tens of percent: a sentence every poll would drown the page); `requested`: a training was asked
    for and no run has started yet, so the page keeps watching for it; `asked`: one of those is sure
    to start a run."""
    run = db.session.scalar(db.select(TrainingRun).where(TrainingRun.assignment_id == assignment_id)
                            .order_by(TrainingRun.id.desc()).limit(1))
    active = run is not None and run.status in ("queued", "running")
    pending = set() if active else _pending_reasons(assignment_id, run)
    if run is None:
        state = "Not trained yet"
        status = {"run_id": None, "status": "none", "fraction": 0.0, "label": state, "active": False,
                  "message": ""}
    else:
        if run.status == "done":
            fraction = 1.0
        elif run.total_steps:
            fraction = min(1.0, max(0.0, run.step / run.total_steps))
        else:
            fraction = 0.0
        state = {"done": "Training finished", "failed": "Training failed"}.get(
            run.status, f"Training: {wording.phase(run.phase, run.status)}")
        label = state + (f", about {int(run.eta_seconds) + 1} s left" if active and run.eta_seconds else "")
        status = {"run_id": run.id, "status": run.status, "phase": run.phase, "step": run.step,
                  "total_steps": run.total_steps, "fraction": fraction, "eta_seconds": run.eta_seconds,
                  "message": _run_message(run, active), "active": active, "label": label,
                  "model_version_id": run.model_version_id,
                  "started_at": utc_iso(run.started_at), "finished_at": utc_iso(run.finished_at)}
    if pending:
        # The request is what happens now: the last run's "finished, 100%" beside "Training
        # requested" read as a contradiction. Its message stays below, and "Last trained" says when.
        state = "Training requested, waiting to start"
        status.update(label=state, fraction=0.0)
    tens = int(status["fraction"] * 10) * 10
    status["announce"] = f"{state}: {tens}% complete." if status["active"] else f"{state}."
    status["requested"] = bool(pending)
    # Only a request the worker always honours ("Train now", an erasure) makes asking again pointless.
    # An import's request may be found not due (a model in service waits for `retrain_every`
    # grades): blocking "Train now" on it told the teacher "a training is under way" when none came.
    status["asked"] = bool(pending & {"manual", "erasure"})
    status["svg"] = charts.progress_bar(status["fraction"], status["label"], title="Training progress")
    return status


def _run_message(run: TrainingRun, active: bool) -> str:
    """What the worker said about the run, for the line under the bar. While it runs that is a
    developer's note ("encoding essays", "epoch 1/3, loss 0.41") the phase words already cover."""
    if active:
        return ""
    version = db.session.get(ModelVersion, run.model_version_id) if run.model_version_id else None
    return wording.verdict(version, run.message or "")


REQUEST_WAIT = timedelta(minutes=10)


def _pending_reasons(assignment_id: int, latest: TrainingRun | None) -> set[str]:
    """The reasons of the `training.due` events (the teacher's "Train now", an import) recorded in
    the last REQUEST_WAIT and after the latest run started that no worker has handled yet: a run
    may still come. One the worker found not due (too few grades, nothing new since the last run)
    is handled and starts no run, so the page stops watching at once. REQUEST_WAIT bounds the wait when no
    worker is running at all."""
    handled = db.select(ProcessedMessage.message_id).where(ProcessedMessage.message_id == OutboxEvent.event_id)
    query = db.select(OutboxEvent.payload).where(OutboxEvent.type == "training.due",
                                                 OutboxEvent.created_at > utcnow() - REQUEST_WAIT,
                                                 ~handled.exists())
    if latest is not None and latest.started_at is not None:
        query = query.where(OutboxEvent.created_at > latest.started_at)
    bodies = (((p or {}).get("payload") or {}) for p in db.session.scalars(query))
    return {str(b.get("reason")) for b in bodies if b.get("assignment_id") == assignment_id}


def versions_of(assignment_id: int) -> list[ModelVersion]:
    return list(db.session.scalars(db.select(ModelVersion).where(ModelVersion.assignment_id == assignment_id)
                                   .order_by(ModelVersion.version.desc())))


def trained_times(assignment_id: int) -> dict[int, datetime]:
    """{version id: when the training run that made it finished}. The page's "Last trained" and
    the version's "Trained" both use it: one training, one time (the version row is written a
    moment before its run is marked finished, and the worker's own "last trained" is when the run
    started, so the two used to differ by a minute)."""
    rows = db.session.execute(db.select(TrainingRun.model_version_id, TrainingRun.finished_at).where(
        TrainingRun.assignment_id == assignment_id, TrainingRun.status == "done",
        TrainingRun.model_version_id.is_not(None), TrainingRun.finished_at.is_not(None)))
    return {version_id: finished for version_id, finished in rows}


def comparison_note(newest: ModelVersion | None, current: ModelVersion | None) -> str:
    """Why the gate's "does not beat the current model's 0.720" differs from the current model's
    QWK in the quality report: the gate scored the current model again on the essays held back to
    test the new version. "" when `newest` was not turned down for that reason, or when the model
    in service now is not the one it was compared with."""
    if newest is None or current is None or newest.id == current.id:
        return ""
    if ((newest.gate or {}).get("checks") or {}).get("beats_current") is not False:
        return ""
    if current.promoted_at is None or newest.created_at is None or current.promoted_at > newest.created_at:
        return ""   # put in service after the comparison (a rollback): another model was compared
    again, own = (newest.metrics or {}).get("current_on_held_out") or {}, held_out(current)
    compared = (newest.gate or {}).get("compared_on")   # those essays alone decided (`worker.ml.gate.compared_on`)
    if compared:
        again = {"qwk": compared["current_qwk"], "n": compared["essays"]}
    if again.get("qwk") is None or own.get("qwk") is None:
        return ""
    which = (f"the {again['n']} essays held back to test version {newest.version} that you graded without seeing "
             "its proposal" if compared else f"the {again.get('n') or 'same'} essays held back to test version "
             f"{newest.version}")
    return (f"Why two numbers: for this check the model in service (version {current.version}) was scored "
            f"again on {which}, and got {again['qwk']:.3f} there. The {own['qwk']:.3f} in the quality report "
            "is from its own test essays, when it was trained.")


def held_out(version: ModelVersion | None) -> dict:
    return ((version.metrics or {}).get("held_out") or {}) if version is not None else {}


def qwk_curve(versions: list[ModelVersion], *, in_halves: bool = False) -> list[tuple[float, float]]:
    """(graded essays the version learned from, its held-out QWK), one point per version; with
    `in_halves`, only the points of half-point versions (`HALF_POINTS`)."""
    points = []
    for v in versions:
        m = held_out(v)
        n = (v.metrics or {}).get("n_examples") or v.n_train
        if "qwk" in m and n and (not in_halves or in_half_points(v)):
            points.append((float(n), float(m["qwk"])))
    return sorted(points)


# Beside a half-point version's figures: its QWK and exact agreement are on the doubled scale
# (exact means the same half point), another figure than a whole-point version's.
HALF_POINTS = "in half points"


def in_half_points(version: ModelVersion | None) -> bool:
    """The version's figures were measured in half points (`compute_metrics`' `step` 0.5)."""
    return float(held_out(version).get("step", 1)) == 0.5


SMD_NOTES = ("SMD: (mean AI score - mean teacher score) / pooled spread of the scores.",
             "Positive: the model scores higher than the teacher; negative: lower.")
GROUP_MIN_N = 5   # the gate's default (`worker.ml.gate.GROUP_MIN_N`) when a version has no thresholds


# The gate's limits (`worker.ml.gate`) for a version stored without its thresholds.
DEFAULT_LIMITS = {"min_qwk": 0.70, "max_smd": 0.15, "max_group_smd": 0.10, "group_min_n": GROUP_MIN_N}


def limit(version: ModelVersion | None, name: str) -> float:
    """The gate's limit `name` (a key of DEFAULT_LIMITS) that judged `version`."""
    stored = ((version.gate or {}).get("thresholds") or {}) if version is not None else {}
    return float(stored.get(name, DEFAULT_LIMITS[name]))


def smd_rows(version: ModelVersion | None) -> tuple[dict, dict]:
    """The SMD chart's rows and per-row limits, judged as the gate judges them: the overall SMD
    against the overall limit, each group against the group limit. A group smaller than the gate's
    minimum, or beyond the limit on too few essays for the gate to tell (`wording.too_few_to_tell`),
    is shown with its figure in words and no bar: on so few essays it may be chance, not a finding."""
    m = held_out(version)
    max_smd, max_group = limit(version, "max_smd"), limit(version, "max_group_smd")
    min_n = int(limit(version, "group_min_n"))
    rows, row_limits = {}, {}
    if "smd" in m:
        rows["All students"] = m["smd"]
        row_limits["All students"] = max_smd
    for group, d in (m.get("smd_by_group") or {}).items():
        n = int(d.get("n") or 0)
        label = f"{group} (n={n})"
        if d.get("small") or n < min_n:
            # Figures stored before the whole set's SD was used are left out: their own-group SD
            # made a few alike essays read as a large difference (or the ±99 of no spread at all).
            rows[label] = (f"{d['smd']:+.2f}, {wording.TOO_FEW} (n<{min_n}), not checked" if "ci" in d
                           else f"too few essays (n<{min_n}), not checked")
        elif wording.too_few_to_tell(version, group, d):
            rows[label] = f"{d['smd']:+.2f}, {wording.TOO_FEW}"
        else:
            rows[label] = d.get("smd")
            row_limits[label] = max_group
    return rows, row_limits


def smd_notes(version: ModelVersion | None, rows: dict) -> tuple[str, ...]:
    """The SMD chart's notes: what SMD means, and what the group rows could not tell."""
    m, notes = held_out(version), list(SMD_NOTES)
    if any(isinstance(v, str) and wording.TOO_FEW in v for v in rows.values()):
        notes.append(f"{wording.TOO_FEW.capitalize()}: on so few essays the difference may be chance; "
                     "not held against it.")
    if not m.get("smd_by_group") and m.get("labelled_outside_held_out"):
        notes.append(wording.NO_GROUP_LABELS)
    return tuple(notes)


def quality_charts(assignment: Assignment, version: ModelVersion | None, versions: list[ModelVersion]) -> dict:
    """Chart SVGs for the quality report of `version` (the current model, else the newest)."""
    m = held_out(version)
    lo, hi = (m.get("scale") or [assignment.score_min, assignment.score_max])[:2]
    smd_groups, smd_limits = smd_rows(version)
    return {
        "agreement": charts.agreement_bars(m.get("exact", float("nan")), m.get("adjacent", float("nan")),
                                           **({"title": f"Agreement with the teacher's scores ({HALF_POINTS})"}
                                              if in_half_points(version) else {})),
        "confusion": _confusion(m, int(lo), int(hi), float(m.get("step", 1))),
        "curve": charts.line_chart(qwk_curve(versions), "Graded essays", "QWK vs teacher",
                                   title="Agreement as more essays are graded", digits=3,
                                   marked=qwk_curve(versions, in_halves=True), mark_label=HALF_POINTS),
        "smd": charts.bar_chart(smd_groups, threshold=_smd_band(version, False), limits=smd_limits,
                                notes=smd_notes(version, smd_groups)),
    }


def _confusion(m: dict, lo: int, hi: int, step: float = 1) -> str:
    """The matrix with exact cells on a short scale, in score bands on a wide one (0-100); labelled
    in the assignment's units (half points: `scale` is the doubled scale, `step` 0.5)."""
    if not m.get("confusion"):
        return charts.confusion_matrix([], [])
    matrix, labels, bands = banded(m["confusion"], lo, hi, step=step)
    return charts.confusion_matrix(matrix, labels, bands=bands)


def _smd_band(version: ModelVersion | None, per_group: bool) -> float:
    """The gate's own limit (per group, else overall)."""
    return limit(version, "max_group_smd" if per_group else "max_smd")
