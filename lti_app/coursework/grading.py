"""Teachers grade an essay: score, optional trait scores and a comment. Each save is a new `Grade`
(the latest is current, older ones stay as history), a training example, and is sent to the LMS
gradebook; LMS errors are shown in words and the grade stays saved for a later retry.

While Gradeloop's proposal for the essay waits in the review queue (`review.decisions.queued_proposal`),
the page shows it, with why the essay is unusual and a link to its review page, but never fills
the form in with it: the teacher's grade is their own judgement and trains the course model. A
grade saved here settles the proposal: the essay is graded, so it leaves the queue and the
proposal is never released. An essay of the blind check (`review.blind`) shows no proposal until
the teacher saved a grade, which is then stored as given blind (`Grade.blind`), and afterwards
what the model had proposed."""
from __future__ import annotations

from flask import render_template, request

from lti_app.auth import require_launch
from lti_app.coursework import access, anonymity, bp, grade_in_lms, lms_sync, notices, version_diff
from lti_app.coursework.ai_words import keeps_ai_words
from lti_app.coursework.restated_traits import restated_trait_lines, restated_words
from lti_app.coursework.revision import why_not_returnable
from lti_app.coursework.schemas import grade_schema, load_posted_form
from lti_app.coursework.submissions import AI_SOURCES
from lti_app.events import record_event
from lti_app.extensions import db
from lti_app.lms import gradebook
from lti_app.models import AiProposal, Assignment, Grade, GradeSource, Submission, SubmissionStatus, User
from lti_app.locking import for_update
from lti_app.review import blind
from worker.feedback.trait_line import score_line


def save_grade(assignment: Assignment, submission: Submission, data: dict, grader_id: int | None,
               source: GradeSource = GradeSource.TEACHER, given_blind: bool = False) -> Grade:
    """Store a grade on the assignment's current scale and record its events (caller commits).
    The assignment's row is share-locked first (FOR KEY SHARE: graders never wait for each other)
    and its scale read again, so a scale edit, which may only happen before the first grade and
    locks the row to check that, is either before this grade or refused."""
    assignment = db.session.scalars(for_update(db.select(Assignment).where(Assignment.id == assignment.id),
                                               read=True, key_share=True)
                                    .execution_options(populate_existing=True)).one()
    grade = Grade(submission_id=submission.id, score=data["score"], trait_scores=data.get("trait_scores") or {},
                  comment=data.get("comment") or "", grader_id=grader_id, source=source,
                  score_min=assignment.score_min, score_max=assignment.score_max, blind=given_blind)
    db.session.add(grade)
    # A returned essay stays returned: a changed grade or comment on it is more feedback for the
    # revision the student was asked for, not a reason to take the return back.
    if submission.status != SubmissionStatus.RETURNED:
        submission.status = SubmissionStatus.GRADED
    db.session.flush()
    record_event("grade.created", {"grade_id": grade.id, "submission_id": submission.id,
                                   "assignment_id": assignment.id, "course_id": assignment.course_id})
    if submission.user_id is not None:
        record_event("gradebook.sync", {"assignment_id": assignment.id, "grade_id": grade.id})
    return grade


@bp.route("/a/<int:assignment_id>/essays/<int:submission_id>", methods=["GET", "POST"])
@require_launch(grader=True)
def grade(assignment_id: int, submission_id: int):
    assignment = access.assignment_in_course(assignment_id)
    submission = access.submission_in_assignment(assignment, submission_id)
    data, errors = load_posted_form(grade_schema(assignment))
    conflict = _changed_since_opened(submission) if data is not None else None
    if conflict and _saved_just_now(submission, data):
        db.session.rollback()   # a double click: the first click saved exactly this
        return notices.redirect_with("coursework.grade", [("success", "Grade saved.")], assignment_id=assignment.id,
                                     submission_id=submission.id)
    if conflict:
        db.session.rollback()
        data, errors = None, {"_schema": [conflict]}
    if data is not None:
        source = _source_of_save(submission, data)
        data, restated = _restate_ai_trait_lines(assignment, submission, data, source)
        # A form started from an AI grade had that grade's words in view: not blind.
        hidden = source == GradeSource.TEACHER and blind.graded_blind(assignment, submission.id,
                                                                      request.form.get("hidden_proposal"))
        saved = save_grade(assignment, submission, data, access.launch().user_id, source=source, given_blind=hidden)
        db.session.commit()
        saved_id = saved.id
        problem = lms_sync.push_grade_now(saved_id) if submission.user_id is not None else None
        saved = db.session.get(Grade, saved_id)
        if saved is None:
            return deleted_meanwhile(assignment_id)
        newer = gradebook.latest_grade(submission.id)
        superseded = newer is not None and newer.id != saved.id   # what happened to this one no longer matters
        lms_state = grade_in_lms.state_of(saved) if problem and not superseded else None
        if superseded:
            notice = ("warning", grade_in_lms.superseded_words("saved", to_lms=submission.user_id is not None))
        elif lms_state == grade_in_lms.NOT_SENT:
            notice = ("error", f"The grade is saved in Gradeloop, but the LMS gradebook did not take it: {problem}")
        elif problem:   # the essay list's words for it too: waiting, or held while no worker runs
            notice = ("warning", grade_in_lms.saved_words(lms_state))
        elif submission.user_id and saved.posted_at is None and saved.post_error:   # e.g. a teacher's own essay
            notice = ("warning", f"Grade saved. {saved.post_error}")
        else:
            notice = ("success", "Grade saved" + (" and sent to the LMS gradebook." if submission.user_id else "."))
        return notices.redirect_with("coursework.grade", [notice, *restated_words(restated)],
                                     assignment_id=assignment.id, submission_id=submission.id)
    current = gradebook.latest_grade(submission.id)
    history = db.session.scalars(db.select(Grade).filter_by(submission_id=submission.id)
                                 .order_by(Grade.created_at.desc(), Grade.id.desc())).all()
    if errors:
        values = dict(request.form)
    elif current is not None and not current.on_earlier_version:   # a revision starts blank
        values = {"score": f"{current.score:g}", "comment": current.comment,
                  **{f"trait:{k}": f"{v:g}" for k, v in (current.trait_scores or {}).items()}}
    else:
        values = {}
    student = db.session.get(User, submission.user_id) if submission.user_id else None
    heading = (anonymity.shown_name(assignment, submission, student.name or student.sub) if student
               else f"Imported essay #{submission.id}")
    graders = {g.grader_id: db.session.get(User, g.grader_id) for g in history if g.grader_id}
    shown = anonymity.redactor(assignment, student)
    from lti_app.review.decisions import queued_proposal   # here: decisions imports this module
    proposal = queued_proposal(submission.id)
    return render_template("coursework/grade.html", assignment=assignment, submission=submission, heading=heading,
                           hide_names=anonymity.hides_names(assignment), shown=shown,
                           changes=version_diff.since_graded(current, submission.text, shown),
                           current=current, history=history, lms_state=current and grade_in_lms.state_of(current),
                           lms_words=grade_in_lms.WORDS, values=values, errors=errors,
                           graders=graders,
                           proposal=proposal, hidden_proposal=blind.hides(assignment, proposal),
                           revealed=blind.revealed(current),
                           seen=seen_token(submission, current),
                           return_problem=why_not_returnable(assignment, submission),
                           neighbours=_neighbours(assignment, submission)), (409 if conflict else 400) if errors else 200


DELETED_MEANWHILE = ("This essay was deleted while its grade was being sent to the LMS gradebook (the "
                     "student's data was erased, or the course's data deleted), so Gradeloop keeps neither the "
                     "essay nor the grade. The LMS may show the grade all the same: remove it there if it should "
                     "go too.")


def deleted_meanwhile(assignment_id: int):
    """Where a grader goes whose saved (or approved) grade was deleted, with its essay, while its
    post waited on the LMS: the assignment's list, or the course's page once the assignment is
    gone too (the grade's page would be a 404, and its words about the LMS are moot)."""
    if db.session.get(Assignment, assignment_id) is None:
        return notices.redirect_with("coursework.course_home", [("warning", DELETED_MEANWHILE)])
    return notices.redirect_with("coursework.submissions", [("warning", DELETED_MEANWHILE)],
                                 assignment_id=assignment_id)


def _source_of_save(submission: Submission, data: dict) -> GradeSource:
    """TEACHER, unless the saved comment keeps words of the AI grade the form was filled in with
    (`ai_words.keeps_ai_words`: a teacher who corrected the score, or added a sentence): then
    AI_EDITED, the teacher's grade for training, whose comment the student is still told is
    AI-assisted. Saved as TEACHER, machine-written words would be shown as the teacher's own, here
    and in the LMS. Saved with
    nothing changed at all, an auto-released or approved grade is approved as it stands (as on
    the review page), so training does not judge the model on a score it gave itself."""
    current = gradebook.latest_grade(submission.id)
    if current is None or current.source not in AI_SOURCES or current.on_earlier_version:
        return GradeSource.TEACHER   # the form started blank or from a teacher's grade
    if not keeps_ai_words(data.get("comment") or "", current.comment or ""):
        return GradeSource.TEACHER
    # Compared with whitespace evened out: a browser sends the textarea's line breaks as CRLF.
    unchanged = (" ".join((data.get("comment") or "").split()) == " ".join((current.comment or "").split())
                 and float(data["score"]) == float(current.score)
                 and {k: float(v) for k, v in (data.get("trait_scores") or {}).items() if v is not None}
                 == {k: float(v) for k, v in (current.trait_scores or {}).items() if v is not None})
    if unchanged and current.source != GradeSource.AI_EDITED:
        return GradeSource.AI_APPROVED
    return GradeSource.AI_EDITED


def _restate_ai_trait_lines(assignment, submission: Submission, data: dict, source: GradeSource):
    """(`data`, []) unless the teacher kept an AI grade's words (`AI_EDITED`, so the form started
    from the latest grade, an AI one): then its generated trait lines of the scores they changed are
    restated (`restated_traits`), with what changed for the notice."""
    if source != GradeSource.AI_EDITED:
        return data, []
    current = gradebook.latest_grade(submission.id)
    comment, restated = restated_trait_lines(assignment.traits, current.trait_scores,
                                             _machine_words(assignment, current), data)
    return {**data, "comment": comment}, restated


def _machine_words(assignment, grade: Grade) -> str:
    """The lines of an AI grade's comment that Gradeloop wrote: all of an auto-released or approved
    one's; of an edited one only the lines of the proposal it came from and the trait lines already
    restated with its scores ("Evidence: 2 of 5."). A line the teacher rewrote there is theirs."""
    if grade.source != GradeSource.AI_EDITED:
        return grade.comment or ""
    proposals = db.session.scalars(db.select(AiProposal.feedback).where(AiProposal.submission_id == grade.submission_id,
                                                                         AiProposal.created_at <= grade.created_at))
    tops = {t["name"]: t.get("max") for t in assignment.traits or []}
    restated = [score_line(name, value, tops.get(name)) for name, value in (grade.trait_scores or {}).items()
                if value is not None]
    return "\n".join([*proposals, *restated])


def seen_token(submission: Submission, current: Grade | None) -> str:
    """What the grading page showed: the essay version (hand-in time), the current grade and
    whether the essay was returned for revision. The form sends it back so a save can tell
    whether any of them changed while the teacher was reading."""
    handed_in = submission.submitted_at.isoformat() if submission.submitted_at else "-"
    returned = "r" if submission.status == SubmissionStatus.RETURNED else "g"
    return f"{handed_in}|{current.id if current else 0}|{returned}"


def _changed_since_opened(submission: Submission) -> str | None:
    """Why the teacher's save would overwrite something they never saw, or None. Without this a
    grade could land on a version the student handed in while the page was open (and lock the
    student out), or a co-grader's newer grade could be silently replaced by an older page's."""
    seen = request.form.get("seen")
    if seen is None:   # a client that does not send it (API-style use) gets the old behaviour
        return None
    # Lock the essay's row (SQLite: the database) so two saves of the same essay check one after
    # the other.
    db.session.execute(for_update(db.select(Submission).where(Submission.id == submission.id))
                       .execution_options(populate_existing=True))
    current = gradebook.latest_grade(submission.id)
    now = seen_token(submission, current)
    if seen == now:
        return None
    seen_version, _, seen_rest = seen.partition("|")
    now_version, _, now_rest = now.partition("|")
    if seen_version != now_version:
        what = "the student handed in a new version"
    elif seen_rest.partition("|")[0] == now_rest.partition("|")[0]:   # same grade: the return changed
        what = ("it was returned to the student for revision" if now.endswith("|r")
                else "its return for revision was taken back")
    elif current is None:
        what = "its grade was removed"
    elif current.source == GradeSource.AI_AUTO:
        what = f"Gradeloop's auto-feedback released a grade of {current.score:g}"
    else:
        grader = db.session.get(User, current.grader_id) if current.grader_id else None
        what = f"{(grader.name or grader.sub) if grader else 'someone else'} saved a grade of {current.score:g}"
    return (f"This essay changed while you had it open: {what}. Your grade was not saved. Read the essay "
            "and the current grade below, then save again.")


def _saved_just_now(submission: Submission, data: dict) -> bool:
    """The essay's current grade is this teacher's, on the version the form was opened on, with
    exactly the posted values: a second click (or a re-sent form) of a save that went through, to
    be answered "saved", not "this essay changed ... your grade was not saved"."""
    current = gradebook.latest_grade(submission.id)
    seen = request.form.get("seen", "")
    return (current is not None and current.grader_id == access.launch().user_id
            and seen.partition("|")[0] == seen_token(submission, current).partition("|")[0]
            and current.score == data["score"] and (current.comment or "") == data["comment"]
            and (current.trait_scores or {}) == data["trait_scores"])


def _neighbours(assignment: Assignment, submission: Submission) -> dict:
    """Previous/next student essay, so a teacher can grade a pile in order."""
    ids = db.session.scalars(db.select(Submission.id).filter_by(assignment_id=assignment.id)
                             .where(Submission.user_id.is_not(None)).order_by(Submission.id)).all()
    if submission.id not in ids:
        return {}
    at = ids.index(submission.id)
    return {"previous": ids[at - 1] if at > 0 else None, "next": ids[at + 1] if at + 1 < len(ids) else None}


@bp.post("/a/<int:assignment_id>/resend")
@require_launch(grader=True)
def resend(assignment_id: int):
    """Send the current grades the LMS does not have yet (after an outage): as many as fit in a
    few seconds while the LMS answers; the rest go to the worker (see `lms_sync.push_grades_now`)."""
    assignment = access.assignment_in_course(assignment_id)
    pending = [g.id for g in gradebook.unposted_grades(assignment.id)]
    notice = lms_sync.push_grades_now(assignment.id, pending).notice()
    return notices.redirect_with("coursework.submissions", [notice], assignment_id=assignment.id)
