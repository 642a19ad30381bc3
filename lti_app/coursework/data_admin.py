"""Course data in bulk: import previously graded essays (CSV; storing them is `imports`) or remove
them again, export essays and grades (CSV), and delete everything Gradeloop holds for the
course's essays (with confirmation)."""
from __future__ import annotations

import logging
import shutil
from pathlib import Path

from flask import Response, current_app, render_template, request, stream_with_context

from lti_app.auth import require_launch
from lti_app.coursework import access, anonymity, bp, notices, roster
from lti_app.coursework.csv_io import INCOMPLETE_ROW, CsvProblem, parse_import, write_export
from lti_app.coursework.imports import count_imported, import_rows, imported_essays
from lti_app.events import record_event
from lti_app.extensions import db
from lti_app.models import AiProposal, Assignment, DeadLetter, Grade, ModelVersion, Submission, TrainingRun, User
from lti_app.timestamps import utc_iso

CONFIRM_WORD = "DELETE"
EXPORT_BATCH = 100   # essays the export reads from the database at a time

log = logging.getLogger(__name__)


@bp.route("/a/<int:assignment_id>/import", methods=["GET", "POST"])
@require_launch(grader=True)
def import_grades(assignment_id: int):
    assignment = access.assignment_in_course(assignment_id)
    problem = None
    if request.method == "POST":
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            problem = CsvProblem("Choose a CSV file to import.")
        else:
            try:
                rows = parse_import(upload.read(), assignment,
                                    max_chars=current_app.config["GRADELOOP_MAX_ESSAY_CHARS"])
                result = import_rows(assignment, rows, access.launch().user_id)
                db.session.commit()
            except CsvProblem as exc:
                db.session.rollback()
                problem = exc
            else:
                return notices.redirect_with("coursework.import_grades", [
                    ("success" if result.changed else "warning", result.summary())], assignment_id=assignment.id)
    return render_template("coursework/import.html", assignment=assignment, problem=problem,
                           imported=count_imported(assignment.id), confirm_word=CONFIRM_WORD), \
        400 if problem else 200


@bp.post("/a/<int:assignment_id>/import/remove")
@require_launch(grader=True)
def remove_imported(assignment_id: int):
    """Remove every imported essay of the assignment (a wrong file, a wrong scale): the way back
    from an import, short of deleting the whole course's data. Students' essays are untouched."""
    assignment = access.assignment_in_course(assignment_id)
    if (request.form.get("confirm") or "").strip() != CONFIRM_WORD:
        return notices.redirect_with("coursework.import_grades", [
            ("error", f"Nothing was removed: type {CONFIRM_WORD} in capitals to confirm.")], assignment_id=assignment.id)
    removed = count_imported(assignment.id)
    delete_essays(imported_essays(assignment.id))
    if removed:
        # For the model this is an erasure: it learnt from essays that are gone. "erasure" makes
        # the worker retrain even below the usual minimum and replace the model without having
        # to beat it, or retire it (essays wait for the teacher) when no valid model results; a
        # "manual" retrain would leave the model trained on the wrong file scoring.
        record_event("training.due", {"assignment_id": assignment.id, "reason": "erasure"})
    db.session.commit()
    return notices.redirect_with("coursework.import_grades", [
        ("success", f"Removed {removed} imported essay{'s' if removed != 1 else ''}.")], assignment_id=assignment.id)


def export_records(course_id: int, *, names_of_anonymous: bool = True):
    """One record per essay (two for a revision not graded yet). `names_of_anonymous=False` (a TA's
    export) leaves the student's name and e-mail out for assignments graded anonymously: the
    essay id would otherwise map every "Essay #n" back to a name. For the same reason the essay
    texts and comments of those rows have the student's name written as `[student]`, as on the
    grading page (a signed essay names its writer).
    `submitted_at` is the hand-in time of the row's text: empty on a "graded, then revised" row,
    since the hand-in time of a version replaced by a revision is not stored (its `graded_at`
    says when it was graded); the revision's time would date that version after its own grade."""
    assignments = db.session.scalars(db.select(Assignment).filter_by(course_id=course_id)
                                     .order_by(Assignment.id)).all()
    for assignment in assignments:
        named = names_of_anonymous or not assignment.anonymous_grading
        latest = roster.latest_grades(assignment.id)
        # One query per assignment, its rows read EXPORT_BATCH at a time: each essay's text is
        # held until its row is written, not the class's texts all at once.
        rows = db.session.execute(db.select(Submission, User, Grade)
                                  .outerjoin(User, Submission.user_id == User.id)
                                  .outerjoin(latest, latest.c.submission_id == Submission.id)
                                  .outerjoin(Grade, Grade.id == latest.c.grade_id)
                                  .where(Submission.assignment_id == assignment.id)
                                  .order_by(Submission.id).execution_options(yield_per=EXPORT_BATCH))
        for submission, user, grade in rows:
            shown = (lambda text: text) if named else anonymity.redactor(assignment, user)
            record = {"assignment": assignment.title, "assignment_id": assignment.id, "essay_id": submission.id,
                      "student": (user.name or user.sub) if user and named else "",
                      "student_email": user.email if user and named else "",
                      "submitted_at": utc_iso(submission.submitted_at), "status": submission.status.value,
                      "group": submission.group_label or "", "text": shown(submission.text)}
            if grade is not None and grade.on_earlier_version:
                # A revision not graded yet: the grade goes out with the version it was given on
                # (a re-import must never pair it with the revision), then the revision, ungraded.
                yield {**record, **_grade_columns(grade, shown), "status": "graded, then revised",
                       "text": shown(grade.essay_text), "submitted_at": ""}
            elif grade is not None:
                record.update(_grade_columns(grade, shown))
            yield record


def _grade_columns(grade, shown) -> dict:
    return {"score": f"{grade.score:g}", "score_min": grade.score_min, "score_max": grade.score_max,
            "comment": shown(grade.comment), "grade_source": grade.source.value,
            "graded_at": utc_iso(grade.created_at), "in_lms": "yes" if grade.posted_at else "no",
            **{f"trait:{k}": f"{v:g}" for k, v in (grade.trait_scores or {}).items()}}


@bp.get("/course/export.csv")
@require_launch(grader=True)
def export_csv():
    ctx = access.launch()
    traits = sorted({t["name"] for a in db.session.scalars(db.select(Assignment).filter_by(course_id=ctx.course_id))
                     for t in a.traits or []})
    pieces = write_export(export_records(ctx.course_id, names_of_anonymous=access.is_course_admin()), traits)
    return Response(stream_with_context(_ended_on_failure(pieces, ctx.course_id)), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="gradeloop-course-{ctx.course_id}.csv"',
        "Cache-Control": "no-store"})


def _ended_on_failure(pieces, course_id: int):
    """The export's pieces as they come. Should reading fail (the database gone), the file must not
    pass for a whole one: its last row says it is incomplete (the import refuses such a file), and
    the download is broken off, which the browser shows as a failed download. So even when nothing
    was sent yet: the web server's own bare 500 page would otherwise be the file or the frame's
    page. (The pieces cannot be started in the view: on PostgreSQL they read through a server-side
    cursor that does not outlive the view's return.)"""
    sent = False
    try:
        for piece in pieces:
            sent = True
            yield piece
    except Exception:
        log.exception("event=export_failed course_id=%s part_sent=%s", course_id, sent)
        yield INCOMPLETE_ROW
        raise


def delete_course_data(course_id: int) -> int:
    """Delete the course's assignments with their essays, grades, proposals, models and model files.
    Explicit deletes, not only FK cascades: databases written before SQLite enforced foreign keys
    (migrations/env.py) behave too, and the model files to remove are collected on the way."""
    assignment_ids = db.session.scalars(db.select(Assignment.id).filter_by(course_id=course_id)).all()
    if not assignment_ids:
        return 0
    delete_essays(db.select(Submission.id).where(Submission.assignment_id.in_(assignment_ids)))
    for model in (TrainingRun, DeadLetter):
        db.session.execute(db.delete(model).where(model.assignment_id.in_(assignment_ids)))
    _, paths = delete_model_versions(assignment_ids)
    db.session.execute(db.delete(Assignment).where(Assignment.id.in_(assignment_ids)))
    db.session.commit()
    remove_model_files(paths)
    return len(assignment_ids)


def delete_essays(submission_ids) -> None:
    """Delete submissions (ids, or a select of ids) with their grades and AI proposals. Explicit
    deletes, children first, so nothing rests on the database's cascade rules. Caller commits."""
    for model in (AiProposal, Grade):
        db.session.execute(db.delete(model).where(model.submission_id.in_(submission_ids)))
    db.session.execute(db.delete(Submission).where(Submission.id.in_(submission_ids)))


def delete_model_versions(assignment_ids: list[int]) -> tuple[int, list[str]]:
    """Delete the assignments' model versions (they stop scoring); returns (count, their file
    paths) for `remove_model_files` after the commit. Caller commits."""
    rows = db.session.execute(db.select(ModelVersion.id, ModelVersion.path, ModelVersion.onnx_path)
                              .where(ModelVersion.assignment_id.in_(assignment_ids))).all()
    ids = [r.id for r in rows]
    db.session.execute(db.update(Assignment).where(Assignment.id.in_(assignment_ids)).values(current_model_id=None))
    for model in (AiProposal, TrainingRun):   # what SET NULL does, stated rather than relied on
        db.session.execute(db.update(model).where(model.model_version_id.in_(ids)).values(model_version_id=None))
    db.session.execute(db.delete(ModelVersion).where(ModelVersion.id.in_(ids)))
    # Where the files are now: stored paths predate a move of the data dir, which scoring follows
    # (`modelfiles.resolve_dir`), so deleting must follow it too, or the files of an erased
    # person's model would stay on disk outside the stored place.
    from worker.ml.modelfiles import MODELS, resolve_dir   # plain files, no torch

    data_dir = current_app.config["GRADELOOP_DATA_DIR"]
    paths = [str(resolve_dir(r.path, data_dir)) for r in rows if r.path]
    paths += [str(resolve_dir(Path(r.onnx_path).parent, data_dir) / Path(r.onnx_path).name)
              for r in rows if r.onnx_path]
    # And each assignment's whole folder: a training killed while it wrote a version left a
    # directory no row names (what that model learnt from the essays included). Not while a
    # training of it runs: that run is writing its new version there; once it ends, the version it
    # wrote is a row (the erasure retrain replaces or retires it) or an orphan the scheduler removes.
    from worker.handlers.training import lease_key
    from worker.leases import holder

    paths += [str(Path(data_dir) / MODELS / f"assignment-{assignment_id}") for assignment_id in assignment_ids
              if holder(lease_key(assignment_id)) is None]
    return len(ids), paths


def remove_model_files(paths: list[str]) -> None:
    """Only inside the data dir: a bad path in the database must never delete anything else."""
    root = Path(current_app.config["GRADELOOP_DATA_DIR"]).resolve()
    for raw in paths:
        path = Path(raw)
        path = (root / path if not path.is_absolute() else path).resolve()
        if path != root and root in path.parents and path.exists():
            shutil.rmtree(path, ignore_errors=True) if path.is_dir() else path.unlink(missing_ok=True)


@bp.route("/course/delete", methods=["GET", "POST"])
@require_launch(grader=True)
def delete_data():
    access.require_course_admin()
    ctx = access.launch()
    error = None
    if request.method == "POST":
        if (request.form.get("confirm") or "").strip() != CONFIRM_WORD:
            error = f"Type {CONFIRM_WORD} in capitals to confirm."
        else:
            count = delete_course_data(ctx.course_id)
            return notices.redirect_with("coursework.course_home", [
                ("success", f"Deleted {count} assignment{'s' if count != 1 else ''} with all essays, grades and models.")])
    counts = {
        "assignments": db.session.scalar(db.select(db.func.count(Assignment.id)).filter_by(course_id=ctx.course_id)),
        "essays": db.session.scalar(db.select(db.func.count(Submission.id)).join(
            Assignment, Assignment.id == Submission.assignment_id).where(Assignment.course_id == ctx.course_id)),
    }
    return render_template("coursework/delete.html", course=access.course(), counts=counts, error=error,
                           confirm_word=CONFIRM_WORD), 400 if error else 200
