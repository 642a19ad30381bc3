"""The teacher's list of an assignment's essays, merged with the course roster from NRPS so that
students who have not handed in show too; sortable and paged.

The roster is kept for `ROSTER_SECONDS` per course in each web process: sorting or paging a class
of 150 otherwise re-reads every NRPS page from the LMS on every click. "Read the roster again"
(`?refresh=1`) skips the copy; a failed read is never kept. At most `ROSTER_COURSES` courses are
kept, and expired copies are dropped: names and e-mails are not held past their use.
"""
from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app, render_template, request
from sqlalchemy.orm import defer

from lti_app.auth import require_launch
from lti_app.coursework import access, anonymity, bp, grade_in_lms, lms_quiet
from lti_app.extensions import db
from lti_app.lms import nrps
from lti_app.lms.errors import LmsError
from lti_app.lms.gradebook import client_for_course, has_gradebook, model_scores
from lti_app.models import Assignment, Course, CourseRole, Grade, Role, Submission, SubmissionStatus, User
from lti_app.models.base import utcnow

PER_PAGE = 25
ROSTER_SECONDS = 120
ROSTER_COURSES = 50   # courses whose roster a web process keeps at once (the least recently used goes)
_roster_lock = threading.Lock()
SORTS = ("name", "status", "submitted", "score")
# "Revised": a returned essay's new version, not graded yet (its grade is the earlier version's).
STATUS_ORDER = {"Not submitted": 0, "Submitted": 1, "Revised": 2, "Returned": 3, "Graded": 4}


@dataclass
class Row:
    name: str
    email: str
    status: str
    submission: Submission | None = None
    grade: Grade | None = None
    gradable: bool = True          # False for a teacher's own test essay: the LMS takes no grade
    quiet: bool = False            # the course's LMS did not answer a moment ago (`lms_quiet`)
    sent: bool = True              # a worker sends waiting grades (`grade_in_lms.worker_sends`)
    earlier_version: bool = False  # the grade was given on the version before a revision (`current_grades`)

    @property
    def submitted_at(self) -> datetime | None:
        return self.submission.submitted_at if self.submission else None

    @property
    def sync(self) -> str:
        if self.grade is None or self.submission is None or self.submission.user_id is None:
            return ""
        if not self.gradable:
            return "Teacher (not sent)"
        return grade_in_lms.state(self.grade, quiet=self.quiet, sent=self.sent)


def roster_members(course: Course, refresh: bool = False) -> tuple[list[nrps.Member], str | None, float]:
    """Learners from NRPS (or the copy read less than ROSTER_SECONDS ago), or ([], reason) when
    the roster cannot be read; the third value is when the list was read (time.time())."""
    if not course.nrps_url:
        return [], ("The LMS did not share the course roster with Gradeloop, so only students who "
                    "handed in are listed."), time.time()
    # Per app, so two apps in one process (tests, the sandbox) never share a course id's roster.
    cache = current_app.extensions.setdefault("gradeloop_roster", OrderedDict())
    key = (course.id, course.nrps_url)
    ttl = current_app.config.get("GRADELOOP_ROSTER_SECONDS", ROSTER_SECONDS)
    with _roster_lock:
        _drop_expired(cache, time.time(), ttl)   # names and e-mails are not kept past their use
        kept = cache.get(key)
        if kept:
            cache.move_to_end(key)
    if kept and not refresh and time.time() - kept[0] < ttl:
        return kept[1], None, kept[0]
    try:
        members = nrps.memberships(client_for_course(course), course.nrps_url)
    except LmsError as exc:
        return [], roster_unread(exc), time.time()
    learners = [m for m in members if m.is_learner and m.active]
    read_at = time.time()
    with _roster_lock:
        _keep(cache, key, (read_at, learners), ttl)
    return learners, None, read_at


def _drop_expired(cache: OrderedDict, now: float, ttl: float) -> None:
    for old in [k for k, (read_at, _) in cache.items() if now - read_at >= ttl]:
        del cache[old]


def _keep(cache: OrderedDict, key, entry: tuple[float, list], ttl: float) -> None:
    """Store `entry` (read at `entry[0]`) as the newest; drop the copies that expired and, past
    `ROSTER_COURSES`, the least recently used. Caller holds `_roster_lock`."""
    _drop_expired(cache, entry[0], ttl)
    cache[key] = entry
    cache.move_to_end(key)
    while len(cache) > ROSTER_COURSES:
        cache.popitem(last=False)


def roster_unread(exc: LmsError) -> str:
    """What the list lacks while the roster cannot be read. Nothing reads it again in the background
    (only the next page load, or "Read it again" beside these words), so a temporary failure's own
    "Gradeloop will try again" is left out; a refusal keeps its reason, which says what to check."""
    lacking = "so only students who handed in are listed."
    if exc.temporary:
        return f"The LMS did not answer when Gradeloop read the course roster just now, {lacking}"
    return f"Gradeloop could not read the course roster from the LMS, {lacking} {exc}"


def latest_grades(assignment_id: int):
    """A subquery of each essay's current grade (`submission_id`, `grade_id`): its latest, in the
    order `gradebook.latest_grade` reads one essay's, for the whole assignment at once."""
    rank = db.func.row_number().over(partition_by=Grade.submission_id,
                                     order_by=(Grade.created_at.desc(), Grade.id.desc()))
    ranked = (db.select(Grade.submission_id, Grade.id.label("grade_id"), rank.label("rank"))
              .join(Submission, Grade.submission_id == Submission.id)
              .where(Submission.assignment_id == assignment_id).subquery())
    return db.select(ranked.c.submission_id, ranked.c.grade_id).where(ranked.c.rank == 1).subquery()


def held_grades(assignment: Assignment) -> int | None:
    """How many of the assignment's grades the essay list shows as "Held in Gradeloop", in one
    query (the dashboard, which lists no essays); None while a worker sends them (`Row.sync`: the
    students' current grades the LMS has not taken and did not refuse, past "Sending")."""
    if grade_in_lms.worker_sends():
        return None
    course = db.session.get(Course, assignment.course_id)
    latest = latest_grades(assignment.id)
    query = (db.select(db.func.count(Grade.id)).join(latest, Grade.id == latest.c.grade_id)
             .join(Submission, Grade.submission_id == Submission.id).join(User, Submission.user_id == User.id)
             .where(User.platform_id == course.platform_id, Submission.user_id.not_in(_graders_query(course.id)),
                    Grade.posted_at.is_(None),
                    Grade.post_error.is_(None) | Grade.post_error.endswith(grade_in_lms.RETRY_MARK, autoescape=True)))
    if not lms_quiet.is_quiet(course.platform_id):   # else a grade saved a moment ago is still "Sending"
        cutoff = utcnow() - timedelta(seconds=lms_quiet.QUIET_S)
        query = query.where(Grade.post_error.is_not(None) | (Grade.created_at < cutoff))
    return db.session.scalar(query)


def current_grades(assignment_id: int) -> tuple[dict[int, Grade], set[int]]:
    """({submission id: current grade}, the essays whose current grade is the earlier version's:
    revised, not graded again yet), in one query and without the text of the version a grade was
    given on: a list never shows it, and a class's earlier versions are whole essays (reading
    `on_earlier_version` would load it one grade at a time)."""
    latest = latest_grades(assignment_id)
    rows = db.session.execute(db.select(Grade, Grade.essay_text.is_not(None))
                              .join(latest, Grade.id == latest.c.grade_id).options(defer(Grade.essay_text))).all()
    return {g.submission_id: g for g, _ in rows}, {g.submission_id for g, earlier in rows if earlier}


def revised_essays(assignment_id: int) -> set[int]:
    """The essays whose current grade is the earlier version's (`current_grades`)."""
    return current_grades(assignment_id)[1]


def build_rows(assignment: Assignment, members: list[nrps.Member]) -> list[Row]:
    course = db.session.get(Course, assignment.course_id)
    grades, revised = current_grades(assignment.id)
    # Not the essays' texts: the list never shows them, and a class's texts are megabytes.
    pairs = db.session.execute(db.select(Submission, User).join(User, Submission.user_id == User.id)
                               .where(Submission.assignment_id == assignment.id)
                               .options(defer(Submission.text))).all()
    by_sub = {user.sub: (submission, user) for submission, user in pairs if user.platform_id == course.platform_id}
    rows: list[Row] = []
    lms = {"quiet": lms_quiet.is_quiet(course.platform_id), "sent": grade_in_lms.worker_sends()}
    for member in members:
        found = by_sub.pop(member.user_id, None)
        submission = found[0] if found else None
        rows.append(_row(member.name or (found[1].name if found else "") or member.user_id, member.email,
                         submission, grades, revised, **lms))
    # Handed in but not (or no longer) on the roster: a teacher's own test essay takes no grade in
    # the LMS. Every grader of the course at once, not a question per essay: without a roster
    # (none shared, or the LMS not answering) that is every essay of the class.
    graders = _graders(assignment.course_id) if by_sub else set()
    for submission, user in by_sub.values():
        row = _row(user.name or user.email or user.sub, user.email, submission, grades, revised, **lms)
        row.gradable = user.id not in graders
        rows.append(row)
    return rows


def _graders(course_id: int) -> set[int]:
    """The user ids with a grading role in the course (`gradebook.is_grader`, for all of them)."""
    return set(db.session.scalars(_graders_query(course_id)))


def _graders_query(course_id: int):
    return db.select(CourseRole.user_id).where(CourseRole.course_id == course_id,
                                               CourseRole.role.in_([r for r in Role if r.can_grade]))


def _row(name: str, email: str, submission: Submission | None, grades: dict[int, Grade], revised: set[int],
         quiet: bool, sent: bool) -> Row:
    grade = grades.get(submission.id) if submission else None
    earlier = grade is not None and submission.id in revised
    if submission is None:
        status = "Not submitted"
    elif submission.status == SubmissionStatus.RETURNED:
        status = "Returned"
    elif grade is not None:
        status = "Revised" if earlier else "Graded"
    else:
        status = "Submitted"
    return Row(name=name, email=email, status=status, submission=submission, grade=grade, quiet=quiet, sent=sent,
               earlier_version=earlier)


def sort_rows(rows: list[Row], key: str, descending: bool) -> list[Row]:
    keys = {
        "name": lambda r: (r.name.lower(),),
        "status": lambda r: (STATUS_ORDER[r.status], r.name.lower()),
        "submitted": lambda r: (r.submitted_at is None, r.submitted_at.timestamp() if r.submitted_at else 0),
        "score": lambda r: (r.grade is None, r.grade.score if r.grade else 0, r.name.lower()),
    }
    ordered = sorted(rows, key=keys[key], reverse=descending)
    if key in ("submitted", "score"):   # rows without a value stay last either way
        ordered = [r for r in ordered if (r.submission if key == "submitted" else r.grade)] + \
                  [r for r in ordered if not (r.submission if key == "submitted" else r.grade)]
    return ordered


def _int_arg(name: str, default: int, low: int, high: int) -> int:
    try:
        return min(max(int(request.args.get(name, default)), low), high)
    except ValueError:
        return default


@bp.get("/a/<int:assignment_id>")
@require_launch(grader=True)
def submissions(assignment_id: int):
    assignment = access.assignment_in_course(assignment_id)
    course = db.session.get(Course, assignment.course_id)
    members, roster_problem, roster_read_at = roster_members(course, refresh=request.args.get("refresh") == "1")
    sort = request.args.get("sort") if request.args.get("sort") in SORTS else "name"
    descending = request.args.get("dir") == "desc"
    rows = sort_rows(anonymity.mask_rows(assignment, build_rows(assignment, members)), sort, descending)
    per_page = _int_arg("per_page", PER_PAGE, 2, 200)
    pages = max(1, math.ceil(len(rows) / per_page))
    page = _int_arg("page", 1, 1, pages)
    imported = db.session.scalar(db.select(db.func.count(Submission.id))
                                 .filter_by(assignment_id=assignment.id, user_id=None))
    counts = {s: sum(1 for r in rows if r.status == s) for s in STATUS_ORDER}
    unsent = sum(1 for r in rows if r.sync == grade_in_lms.NOT_SENT)
    waiting = sum(1 for r in rows if r.sync == grade_in_lms.WAITING)
    held = sum(1 for r in rows if r.sync == grade_in_lms.HELD)
    returnable = sum(1 for r in rows if r.status == "Graded" and r.gradable and r.submission.user_id is not None)
    from lti_app.review.decisions import pending_proposals   # review builds on coursework: import late
    from lti_app.review import blind
    proposals = {p.submission_id: p for p in pending_proposals(assignment.id)}
    # The blind check: the list says a proposal waits, never its score, until the teacher grades.
    hidden = blind.hidden(assignment, proposals.values())
    blind_ids = {sub_id for sub_id, p in proposals.items() if p.id in hidden}
    return render_template("coursework/submissions.html", assignment=assignment, rows=rows[(page - 1) * per_page:
                           page * per_page], page=page, pages=pages, per_page=per_page, sort=sort,
                           descending=descending, roster_problem=roster_problem, imported=imported,
                           counts=counts,
                           lms_banner=grade_in_lms.banner(unsent, waiting, held, model_scores(assignment)),
                           lms_words=grade_in_lms.WORDS, total=len(rows),
                           returnable=returnable, proposals=proposals, blind_ids=blind_ids,
                           gradebook_off=not has_gradebook(assignment),
                           roster_age=int(time.time() - roster_read_at) if course.nrps_url else None)
