"""Per-assignment feedback settings: mode (off / review / auto-release), training threshold,
retraining cadence, confidence threshold, AI label for students, resubmission."""
from __future__ import annotations

from flask import render_template, request

from lti_app.auth import require_launch
from lti_app.coursework import access, bp, notices
from lti_app.coursework.schemas import SettingsSchema, load_posted_form, traits_text
from lti_app.extensions import db
from lti_app.models import MIN_TRAINING_ESSAYS, FeedbackMode

FIELDS = ("feedback_mode", "min_graded", "retrain_every", "confidence_threshold", "show_ai_label",
          "allow_resubmit")


@bp.route("/a/<int:assignment_id>/settings", methods=["GET", "POST"])
@require_launch(grader=True)
def settings(assignment_id: int):
    assignment = access.assignment_in_course(assignment_id)
    data, errors = load_posted_form(SettingsSchema())
    if data is not None:
        for name in FIELDS:
            setattr(assignment, name, data[name])
        db.session.commit()
        return notices.redirect_with("coursework.settings", [("success", "Settings saved.")],
                                     assignment_id=assignment.id)
    values = dict(request.form) if errors else {name: getattr(assignment, name) for name in FIELDS}
    if not errors:
        values["feedback_mode"] = assignment.feedback_mode.value
    return render_template("coursework/settings.html", assignment=assignment, values=values, errors=errors,
                           min_training_essays=MIN_TRAINING_ESSAYS,
                           modes=FeedbackMode, traits=traits_text(assignment.traits)), 400 if errors else 200
