"""One person's data, for a school's data-protection requests: `gradeloop privacy export-user`
(right of access: everything Gradeloop holds about them, as JSON) and `gradeloop privacy
erase-user` (right to erasure).

Erasure deletes the person's essays with their grades and AI proposals, their course roles and
their user row (name, e-mail), and also every copy of their essays that carries no student
(`find_copies`): a course copy's training essays, found by the writer the copy noted
(`Submission.source_user_id`) even when the original is gone, and, by identical text, CSV
re-imports of an export, including a TA's export that wrote their name as `[student]`. Essays
without a student that note no writer (CSV imports, course copies whose original was deleted
before this was noted) can only be matched by the person's remaining texts: the command says so
(`unknown_writers`) instead of reporting the erasure as complete. Grades they gave as a teacher
stay, without their name. The affected assignments are queued for
retraining (`training.due`, reason "erasure"), which the worker runs whatever the usual
retraining rules say, so the next model no longer learns from the essays. The model in service
was trained on them: that retrain replaces it if the new version passes the gate's validity
checks even when it scores a little lower, and retires it (essays wait for the teacher) when no
new version gets into service (worker/ml/pipeline.py, docs/privacy.md). `--drop-models` deletes
every version (rows and files) at once, leaving the assignment without automatic scoring until the
retrain is promoted; the worker numbers that version from 1 again but never reuses a version
directory still on disk. The LMS's own copy of the grades is the LMS's to erase.

Classmates' AI feedback may quote the teacher's comments on the person's essays: pending proposals
that do are withdrawn and their essays scored again, released ones are counted in the summary
(`lti_app/erasure_quotes.py`). Later feedback is composed from the graded essays that remain: the
worker's feedback index is keyed by the course's grades and roster, which the erasure changes.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields

import click
from flask.cli import with_appcontext

from lti_app.coursework.anonymity import essay_label, redactor
from lti_app.coursework.essay_text import normalise
from lti_app.erasure_quotes import withdraw_quoting_proposals
from lti_app.events import record_event
from lti_app.extensions import db
from lti_app.locking import for_update
from lti_app.models import AiProposal, Assignment, Course, CourseRole, Grade, Platform, Submission, User
from lti_app.timestamps import utc_iso


@dataclass
class Erasure:
    essays: int = 0
    copies: int = 0
    courses: int = 0
    assignments: list[int] = field(default_factory=list)
    model_versions: int = 0
    # Classmates' AI proposals quoting the comments on their essays (`erasure_quotes.Quoting`).
    withdrawn: int = 0
    requeued: int = 0
    released: int = 0

    def __add__(self, other: "Erasure") -> "Erasure":
        """Two erasures of one person (one per registration of the same LMS), reported as one."""
        summed = {f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)}
        return Erasure(**{**summed, "assignments": sorted(set(self.assignments) | set(other.assignments))})


def find_users(*, sub: str | None = None, email: str | None = None, issuer: str | None = None) -> list[User]:
    query = db.select(User).join(Platform, Platform.id == User.platform_id)
    if sub:
        query = query.where(User.sub == sub)
    if email:
        query = query.where(db.func.lower(User.email) == email.strip().lower())
    if issuer:
        query = query.where(Platform.issuer == issuer)
    return list(db.session.scalars(query.order_by(User.id)))


# How a copy was recognised as the person's (`find_copies`), as export-user names it.
BY_WRITER, BY_TEXT, BY_REDACTED_TEXT = ("the course copy noted them as the writer", "same text",
                                        "same text with their name written as [student]")


def find_copies(user: User, own: list[Submission]) -> list[tuple[Submission, str]]:
    """The essays without a student that are copies of `user`'s essays, with how each was found:
    by the writer a course copy noted (the original may be gone), or by the text of an essay of
    theirs still held (or of the earlier version a grade kept), as it is or as a TA's export of an
    anonymously graded assignment writes it: a CSV re-import of that file holds `[student]` where
    the essay named them. That redaction is applied to every essay, whatever the assignment says
    now: hiding names may have been switched off since the export. It uses the name and e-mail
    held today; a re-import of an export made under a name the LMS has changed since is not found."""
    earlier = db.session.scalars(db.select(Grade.essay_text).where(Grade.submission_id.in_([s.id for s in own]),
                                                                   Grade.essay_text.is_not(None))).all() if own else []
    texts = {t for t in [*(s.text for s in own), *earlier] if t.strip()}
    # An assignment that hides names, never stored: only its setting is read.
    as_a_ta_sees_them = redactor(Assignment(anonymous_grading=True), user)
    redacted = {r for t in texts if (r := normalise(as_a_ta_sees_them(t))) != t and r} - texts
    found = db.session.scalars(db.select(Submission).where(
        Submission.user_id.is_(None),
        db.or_(Submission.source_user_id == user.id, Submission.text.in_(texts), Submission.text.in_(redacted)))
        .order_by(Submission.id)).all()
    return [(copy, BY_WRITER if copy.source_user_id == user.id else BY_TEXT if copy.text in texts
             else BY_REDACTED_TEXT) for copy in found]


def unknown_writers(platform_ids, found: list[int] = ()) -> list[tuple[str, int]]:
    """Essays without a student that note no writer, other than the copies `found`, in courses of
    the person's own LMS (`platform_ids`: a course copy stays within its LMS, and a school imports
    its own exports), as (course, count) oldest course first: CSV imports, and course copies
    whose original was deleted before the copy's writer was recorded. Erasure matches them only
    by the person's remaining texts, so while any exist it cannot say it found every copy."""
    rows = db.session.execute(
        db.select(Course.id, Course.title, db.func.count(Submission.id))
        .join(Assignment, Assignment.course_id == Course.id)
        .join(Submission, Submission.assignment_id == Assignment.id)
        .where(Course.platform_id.in_(list(platform_ids)), Submission.user_id.is_(None),
               Submission.source_user_id.is_(None), Submission.id.not_in(list(found)))
        .group_by(Course.id, Course.title).order_by(Course.id)).all()
    return [(f"{title or 'untitled'} (course {course_id})", count) for course_id, title, count in rows]


def completeness_note(unknown: list[tuple[str, int]], essays_left: int) -> str | None:
    """Said with an export or an erasure when it may have missed copies (`unknown_writers`)."""
    if not unknown:
        return None
    compared = ("they have no essays left in Gradeloop to compare them with, so none of them could be matched"
                if not essays_left else
                "they were compared with the texts of this person's essays still held only, so a copy of an "
                "essay deleted earlier (a course's data deleted) is not recognised")
    shown = ", ".join(f"{course}: {count}" for course, count in unknown[:10])
    more = f" and {len(unknown) - 10} more courses" if len(unknown) > 10 else ""
    return (f"copies may have been missed: {sum(count for _, count in unknown)} essays without a student do not "
            f"record who wrote them (CSV imports, and course copies made before Gradeloop recorded that, whose "
            f"original is gone), in {shown}{more}; {compared}. If this person's essays were imported or copied "
            "into those courses, ask their teachers to check their imported essays (Import page) or delete that "
            "course's data.")


def _essay_record(submission: Submission) -> dict:
    """One essay as export-user lists it: its text, every grade on it and every AI proposal."""
    assignment = db.session.get(Assignment, submission.assignment_id)
    grades = db.session.scalars(db.select(Grade).filter_by(submission_id=submission.id).order_by(Grade.id))
    proposals = db.session.scalars(db.select(AiProposal).filter_by(submission_id=submission.id)
                                   .order_by(AiProposal.id))
    return {
        "assignment": assignment.title, "submitted_at": utc_iso(submission.submitted_at),
        "status": submission.status.value, "group": submission.group_label, "text": submission.text,
        "grades": [{"score": g.score, "scale": [g.score_min, g.score_max], "traits": g.trait_scores,
                    "comment": g.comment, "source": g.source.value, "at": utc_iso(g.created_at),
                    "in_lms": g.posted_at is not None,
                    **({"graded_version_text": g.essay_text} if g.on_earlier_version else {}),
                    "sent_to_lms_at": utc_iso(g.posted_at), "lms_error": g.post_error} for g in grades],
        "ai_proposals": [{"score": p.score, "traits": p.trait_scores, "feedback": p.feedback,
                          "confidence": p.confidence, "at": utc_iso(p.created_at),
                          # pending, approved, edited or released (auto-released); the "unusual"
                          # reasons are the model's judgement that the essay is unlike those it
                          # learnt from (such a proposal always waits for the teacher)
                          "status": p.status, "unusual": p.unusual or [], "decided_at": utc_iso(p.decided_at),
                          "scored_version_submitted_at": utc_iso(p.essay_submitted_at)} for p in proposals],
        "course": (db.session.get(Course, assignment.course_id).title or ""),
        "filename": submission.filename, "updated_at": utc_iso(submission.updated_at),
        # What the LMS gradebook was last told about this essay (returned, new version handed in).
        "lms_revision_note": submission.lms_notice, "lms_revision_note_at": utc_iso(submission.lms_notice_at),
        "lms_told_of_hand_in_at": utc_iso(submission.lms_submitted_at)}


def export_user(user: User) -> dict:
    """Everything held about `user`: identity, course roles, essays with every grade and proposal,
    the copies of their essays that erasure deletes with them, and the grades they gave."""
    platform = db.session.get(Platform, user.platform_id)
    roles = db.session.execute(db.select(Course, CourseRole.role, CourseRole.updated_at)
                               .join(CourseRole, CourseRole.course_id == Course.id)
                               .where(CourseRole.user_id == user.id)).all()
    own = db.session.scalars(db.select(Submission).filter_by(user_id=user.id).order_by(Submission.id)).all()
    copies = find_copies(user, own)
    given = db.session.execute(db.select(Grade, Submission, Assignment.title)
                               .join(Submission, Submission.id == Grade.submission_id)
                               .join(Assignment, Assignment.id == Submission.assignment_id)
                               .where(Grade.grader_id == user.id).order_by(Grade.id)).all()
    return {"platform": platform.issuer, "sub": user.sub, "name": user.name, "email": user.email,
            "first_seen": utc_iso(user.created_at),
            "courses": [{"title": c.title, "context_id": c.context_id, "role": getattr(r, "value", r),
                         "role_since": utc_iso(at)} for c, r, at in roles],
            "essays": [_essay_record(s) for s in own],
            # Their essays held without a student elsewhere (training data of a course copy, a CSV
            # re-import): erase-user deletes these with them.
            "copies": [{**_essay_record(copy), "found_by": how} for copy, how in copies],
            "copies_note": completeness_note(unknown_writers([user.platform_id], [copy.id for copy, _ in copies]),
                                             len(own)),
            # As a teacher: the grades and comments they wrote (erasure keeps them, without their name).
            "grades_given": [{"assignment": title, "essay": essay_label(essay), "score": g.score,
                              "scale": [g.score_min, g.score_max], "traits": g.trait_scores, "comment": g.comment,
                              "source": g.source.value, "at": utc_iso(g.created_at)} for g, essay, title in given]}


def erase_user(user: User, *, drop_models: bool = False) -> Erasure:
    """Delete `user` and their essays everywhere (see the module docstring); commits."""
    from lti_app.coursework.data_admin import delete_essays, delete_model_versions, remove_model_files

    own = db.session.scalars(db.select(Submission).filter_by(user_id=user.id)).all()
    copies = [copy for copy, _ in find_copies(user, own)]
    gone = [s.id for s in [*own, *copies]]
    report = Erasure(essays=len(own), copies=len(copies),
                     courses=db.session.scalar(db.select(db.func.count()).select_from(CourseRole)
                                               .filter_by(user_id=user.id)),
                     assignments=sorted({s.assignment_id for s in [*own, *copies]}))
    # Locked as a grade save and the scoring handler lock them, essay before assignment: a
    # classmate's essay scored meanwhile either stores its proposal first (the scan below finds
    # it) or waits and then sees fewer grades and writes its feedback again (worker.handlers.scoring).
    db.session.execute(for_update(db.select(Submission.id).where(Submission.id.in_(gone)).order_by(Submission.id)))
    # FOR NO KEY UPDATE: it still holds off the scorer's FOR SHARE, but not the FOR KEY SHARE a
    # grade save or an import takes on the assignment (FOR UPDATE deadlocked with a teacher approving
    # a proposal the scan below then deletes).
    db.session.execute(for_update(db.select(Assignment.id).where(Assignment.id.in_(report.assignments))
                                  .order_by(Assignment.id), key_share=True))
    # Before the essays go: their comments are what classmates' AI feedback may quote.
    quoting = withdraw_quoting_proposals(gone, report.assignments)
    report.withdrawn, report.requeued, report.released = quoting.withdrawn, quoting.requeued, quoting.released
    delete_essays(gone)
    db.session.execute(db.update(Grade).where(Grade.grader_id == user.id).values(grader_id=None))
    db.session.execute(db.delete(CourseRole).where(CourseRole.user_id == user.id))
    db.session.execute(db.delete(User).where(User.id == user.id))
    paths: list[str] = []
    if drop_models and report.assignments:
        report.model_versions, paths = delete_model_versions(report.assignments)
    for assignment_id in report.assignments:
        record_event("training.due", {"assignment_id": assignment_id, "reason": "erasure"})
    db.session.commit()
    remove_model_files(paths)
    return report


privacy_group = click.Group("privacy", help="One person's data: export it (access) or erase it; or erase the "
                                            "people left with none (retention).")


def _one_person(sub, email, issuer) -> list[User]:
    """The user rows of one person. An LMS registered twice (a new client id, e.g. after a
    re-registration) gives the same person one row per registration, with the same issuer and
    sub: those are one person and are handled together. Rows of different LMSs (or different
    subs) are different people: the selector must be narrowed."""
    if not sub and not email:
        raise click.UsageError("give --sub (the LMS's LTI user id) or --email")
    users = find_users(sub=sub, email=email, issuer=issuer)
    if not users:
        raise click.ClickException("no such user in Gradeloop (nothing is held about them)")
    people = {(db.session.get(Platform, u.platform_id).issuer, u.sub) for u in users}
    if len(people) > 1:
        listed = "\n".join(f"  {db.session.get(Platform, u.platform_id).issuer}  sub={u.sub}  {u.name}"
                           for u in users)
        raise click.ClickException(f"{len(people)} people match; add --issuer (and --sub):\n{listed}")
    return users


def _selectors(command):
    for option in (click.option("--issuer", help="the LMS platform's issuer, when several match"),
                   click.option("--email", help="the person's e-mail as the LMS sent it"),
                   click.option("--sub", help="the person's LTI user id (the id_token's sub)")):
        command = option(command)
    return command


@privacy_group.command("export-user")
@_selectors
@with_appcontext
def export_user_command(sub, email, issuer):
    """Print everything Gradeloop holds about one person, as JSON (a list when the LMS was
    registered more than once, one entry per registration)."""
    import json

    held = [export_user(user) for user in _one_person(sub, email, issuer)]
    click.echo(json.dumps(held[0] if len(held) == 1 else held, indent=2, ensure_ascii=False))


@privacy_group.command("erase-user")
@_selectors
@click.option("--drop-models", is_flag=True, help="also delete the model versions trained on their essays")
@click.option("--yes", is_flag=True, help="do not ask for confirmation")
@with_appcontext
def erase_user_command(sub, email, issuer, drop_models, yes):
    """Erase one person: their essays (and copies of them), grades, roles, name and e-mail."""
    users = _one_person(sub, email, issuer)
    user = users[0]
    own = {u.id: list(db.session.scalars(db.select(Submission).where(Submission.user_id == u.id))) for u in users}
    essays = sum(len(found) for found in own.values())
    copies = len({copy.id for u in users for copy, _ in find_copies(u, own[u.id])})
    if not yes:
        click.confirm(f"Erase {user.name or user.sub} (sub {user.sub}), their {essays} essays and {copies} "
                      f"cop{'y' if copies == 1 else 'ies'} of their essays held without a student?", abort=True)
    platforms = {each.platform_id for each in users}   # read before their rows go
    done = sum((erase_user(each, drop_models=drop_models) for each in users), Erasure())
    click.echo(f"erased: {done.essays} essays, {done.copies} copies without a student, {done.courses} course "
               f"roles, {done.model_versions} model versions; retraining queued for "
               f"{len(done.assignments)} assignments")
    if note := completeness_note(unknown_writers(platforms), done.essays):
        click.echo(note)
    click.echo(f"classmates' AI proposals quoting the teacher's comments on their essays: {done.withdrawn} pending "
               f"AI proposals withdrawn, {done.requeued} essays queued for scoring again; {done.released} already "
               "released (approved, edited or auto-released: the students and the LMS have them, not changed)")
