"""Per-assignment settings: feedback mode (off / review / auto-release), training threshold,
retraining cadence, confidence threshold, AI label for students, resubmission, anonymous
grading, the blind check of the model (`review.blind`); and editing the
assignment itself (title and instructions always, scale and traits until the first grade)."""
from __future__ import annotations

from flask import render_template, request

from lti_app.auth import require_launch
from lti_app.coursework import access, bp, grade_in_lms, lms_sync, notices
from lti_app.coursework.release_hint import release_hint
from lti_app.coursework.schemas import AssignmentSchema, SettingsSchema, as_percent, load_posted_form, traits_text
from lti_app.extensions import db
from lti_app.locking import for_update
from lti_app.lms import gradebook
from lti_app.models import MIN_TRAINING_ESSAYS, Assignment, FeedbackMode, Grade, ModelVersion, Submission
from lti_app.models.base import utcnow

FIELDS = ("feedback_mode", "min_graded", "retrain_every", "confidence_threshold", "show_ai_label",
          "allow_resubmit", "anonymous_grading", "blind_check")
# Only the course's instructors (and admins) change these: a TA sees them disabled.
ADMIN_ONLY = ("anonymous_grading", "blind_check")


@bp.route("/a/<int:assignment_id>/settings", methods=["GET", "POST"])
@require_launch(grader=True)
def settings(assignment_id: int):
    assignment = access.assignment_in_course(assignment_id)
    data, errors = load_posted_form(SettingsSchema())
    if data is not None:
        if not access.is_course_admin():
            # Anonymous grading protects students from their graders, the blind check the course
            # model from their approvals: a TA grading the essays cannot switch either off (the
            # checkboxes are shown disabled, so they are never posted).
            data.update({name: getattr(assignment, name) for name in ADMIN_ONLY})
        if data["blind_check"] and not assignment.blind_check:
            # Proposals made before were in view: the check hides only those made from now on.
            assignment.blind_check_since = utcnow()
        for name in FIELDS:
            setattr(assignment, name, data[name])
        db.session.commit()
        waiting = no_model_words(assignment) if assignment.feedback_mode != FeedbackMode.OFF else None
        notice = ("warning", f"Settings saved, but there is {waiting}") if waiting else ("success", "Settings saved.")
        return notices.redirect_with("coursework.settings", [notice], assignment_id=assignment.id)
    values = dict(request.form) if errors else {name: getattr(assignment, name) for name in FIELDS}
    if errors and not access.is_course_admin():   # never posted (disabled): show what is stored
        values.update({name: getattr(assignment, name) for name in ADMIN_ONLY})
    if not errors:
        values["feedback_mode"] = assignment.feedback_mode.value
        values["confidence_threshold"] = as_percent(assignment.confidence_threshold)   # as the dashboard says it
    return render_template("coursework/settings.html", assignment=assignment, values=values, errors=errors,
                           min_training_essays=MIN_TRAINING_ESSAYS, instructor=access.is_course_admin(),
                           modes=FeedbackMode, traits=traits_text(assignment.traits),
                           hint=release_hint(assignment), no_model=no_model_words(assignment)), 400 if errors else 200


def no_model_words(assignment: Assignment) -> str | None:
    """While no course model serves the assignment, what that means for automatic feedback (None
    once one serves): nothing scores the essays, so review and auto-release both leave every essay
    to the teacher (the worker skips it: `scoring_skipped reason=no_model`). The count is the
    dashboard's: graded essays towards the assignment's minimum (`training.min_graded`)."""
    if assignment.current_model_id is not None:
        return None
    from worker.handlers.training import min_graded, training_state   # as the dashboard: no worker at import

    graded, needed = training_state(assignment.id).graded, min_graded(assignment)
    more = needed - graded
    tried = db.session.scalar(db.select(ModelVersion.id).filter_by(assignment_id=assignment.id).limit(1))
    if more > 0:
        why = f"it needs {more} more graded essay{'' if more == 1 else 's'} ({needed} in all, {graded} so far)"
    elif tried is not None:
        why = "no trained version has passed the quality checks yet (the dashboard says why)"
    else:
        why = f"its training can start with the {graded} graded essays (see the dashboard)"
    return f"no course model yet: {why}. Until then every essay waits for you to grade it."


def has_grades(assignment: Assignment) -> bool:
    """Grades or model versions exist: they are on the assignment's scale and traits."""
    graded = db.session.scalar(db.select(Grade.id).join(Submission, Grade.submission_id == Submission.id)
                               .where(Submission.assignment_id == assignment.id).limit(1))
    return graded is not None or db.session.scalar(
        db.select(ModelVersion.id).filter_by(assignment_id=assignment.id).limit(1)) is not None


@bp.route("/a/<int:assignment_id>/edit", methods=["GET", "POST"])
@require_launch(grader=True)
def edit_assignment(assignment_id: int):
    """Fix the title or instructions at any time; change the scale or traits only before the first
    grade (afterwards grades, the LMS column and the model would disagree about them). A new title
    or maximum is sent to the LMS column; if the LMS is unreachable the edit is still saved."""
    assignment = access.assignment_in_course(assignment_id)
    if request.method == "POST":
        # Checked and written under the assignment's row lock, which a grade save takes too
        # (`grading.save_grade`): a first grade saved meanwhile must not end up on the old scale.
        assignment = db.session.scalars(for_update(db.select(Assignment).where(Assignment.id == assignment.id))
                                        .execution_options(populate_existing=True)).one()
    locked = has_grades(assignment)
    data, errors = load_posted_form(AssignmentSchema())
    if data is not None and locked and (data["score_min"], data["score_max"], data["traits"]) != (
            assignment.score_min, assignment.score_max, assignment.traits or []):
        data, errors = None, {"score_max": ["The scale and traits cannot change once essays are graded: they are "
                                            "back to the stored ones below. Save again to keep your other changes."]}
    if data is not None:
        changed = [what for what, new, old in (("name", data["title"], assignment.title),
                                               ("maximum", data["score_max"], assignment.score_max)) if new != old]
        for name in ("title", "prompt", "score_min", "score_max", "traits"):
            setattr(assignment, name, data[name])
        db.session.commit()
        # A course without gradebook access has no column to keep in step: nothing to warn about.
        problem = (lms_sync.sync_line_item_now(assignment.id)
                   if changed and gradebook.has_gradebook(assignment) else None)
        notice = ("warning", column_not_changed(changed, problem)) if problem else ("success", "Assignment saved.")
        return notices.redirect_with("coursework.settings", [notice], assignment_id=assignment.id)
    stored = {"title": assignment.title, "prompt": assignment.prompt, "score_min": str(assignment.score_min),
              "score_max": str(assignment.score_max), "traits": traits_text(assignment.traits)}
    form = dict(request.form) if errors else stored
    if errors and locked:
        # Grading started while this page was open: the scale fields are read-only now, so show
        # the stored scale (the typed one could never be sent differently) and keep the typed
        # title and instructions, which can still be saved.
        form.update({name: stored[name] for name in ("score_min", "score_max", "traits")})
    return render_template("coursework/edit.html", assignment=assignment, form=form, errors=errors,
                           locked=locked), 400 if errors else 200


def column_not_changed(changed: list[str], problem: str) -> str:
    """The edit's notice when the LMS column did not take the new name or maximum (`changed`, in
    words). Only a temporary failure is "for now": Gradeloop's worker changes the column once the
    LMS answers (`lms_sync.sync_line_item_now` queued it), or once an administrator starts one
    (`lms_sync.COLUMN_NOT_RETRIED`; saving again changes nothing, as nothing differs any more). A
    refusal's own words say what the teacher does in the LMS, since Gradeloop will not change the
    column (e.g. Moodle's "grade sync only")."""
    kept = ("The LMS is not answering Gradeloop right now, so the assignment's gradebook column keeps its old "
            + " and ".join(changed))
    if problem == lms_sync.COLUMN_NOT_RETRIED:
        return (f"Assignment saved. {kept}, and nothing changes it later: {grade_in_lms.NO_WORKER}. Ask your "
                "Gradeloop administrator to start the worker, which then changes it, or change it in the LMS "
                "yourself.")
    if not grade_in_lms.retried(problem):
        return f"Assignment saved. {problem}"
    return f"Assignment saved. {kept} for now; Gradeloop changes it as soon as the LMS answers."
