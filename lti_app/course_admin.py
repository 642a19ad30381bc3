"""`gradeloop course`: whole courses from a shell, for a school's data-retention policy ("delete
coursework one year after the course ends").

`list` prints each course with its LMS, counts and last activity, oldest activity first; `delete`
deletes one course's data, `purge` that of every course inactive for N days (with `--dry-run`,
either only shows what it would delete). Both call
`data_admin.delete_course_data`, the function behind the teacher's *Delete this course's data*
page, so they delete exactly what it deletes: the course's assignments with their essays, grades,
AI proposals, training runs, dead letters, model versions and model files. Like that page they keep
the course row (title, LMS context id), its people's roles and resource links: the course's next
launch finds it, empty. A training running meanwhile is handled as there too: the data goes at
once, the run stops when it finds its assignment gone and removes the version it was writing, and
its assignment's model folder is left to it until then (`data_admin.delete_model_versions`). The
LMS gradebook keeps the grades already sent to it.

With `--forget` they then delete the course itself (`forget_course`): its row, its people's course
roles and its resource links, so that a school ending its retention period keeps no course title
or LMS id, and its people end up in no course (`gradeloop privacy erase-people --without-data`
then erases them, and `gradeloop platform remove` an LMS left with neither). The LMS's next
launch of that course makes a new, empty course. A tool session still open in the forgotten
course is refused from then on (`auth.require_launch`), also once SQLite gives its id to a newer
course.

Last activity is the newest of: the course's first launch (`Course.created_at`), a person's first
launch in it or change of role (`CourseRole.updated_at`), an assignment added
(`Assignment.created_at`), a hand-in or revision (`Submission.submitted_at`) and a grade
(`Grade.created_at`). Other launches are not recorded: a returning person whose name and role are
unchanged writes no row (`lti.provisioning`), so a course that is only looked at counts as inactive
since its last hand-in, grade or new member.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import click
from flask.cli import with_appcontext

from lti_app.cli_types import DAYS, ROW_ID
from lti_app.coursework.data_admin import delete_course_data
from lti_app.extensions import db
from lti_app.locking import for_update
from lti_app.models import (Assignment, Course, CourseRole, Grade, ModelVersion, Platform, ResourceLink,
                            Submission)
from lti_app.models.base import utcnow
from lti_app.timestamps import as_utc

LMS_KEEPS = ("The LMS gradebook keeps the grades Gradeloop sent to it: delete those in the LMS "
             "if the policy covers them.")


@dataclass(frozen=True)
class CourseSummary:
    id: int
    issuer: str
    context_id: str
    title: str
    assignments: int
    essays: int
    grades: int
    last_activity: datetime   # aware, UTC

    def line(self) -> str:
        counts = ", ".join(_counted(n, word) for n, word in
                           ((self.assignments, "assignment"), (self.essays, "essay"), (self.grades, "grade")))
        return (f"{self.id}\t{self.issuer}\t{self.context_id}\t{self.title or '-'}\t{counts}\t"
                f"last activity {self.last_activity:%Y-%m-%d %H:%M} UTC")


def _counted(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _tally(course_id, stamp, *joins) -> dict[int, tuple[int, datetime]]:
    """{course id: (rows, newest `stamp`)} for the table of `stamp`, reached from the course
    through `joins` ((model, on) pairs): one grouped query per kind of row, not one per course."""
    query = db.select(course_id, db.func.count(), db.func.max(stamp)).select_from(stamp.class_)
    for model, on in joins:
        query = query.join(model, on)
    return {cid: (n, newest) for cid, n, newest in db.session.execute(query.group_by(course_id))}


def summaries(platform_id: int | None = None) -> list[CourseSummary]:
    """Every course (of one platform), oldest last activity first (see the module docstring)."""
    to_assignment = (Assignment, Assignment.id == Submission.assignment_id)
    assignments = _tally(Assignment.course_id, Assignment.created_at)
    essays = _tally(Assignment.course_id, Submission.submitted_at, to_assignment)
    grades = _tally(Assignment.course_id, Grade.created_at, (Submission, Submission.id == Grade.submission_id),
                    to_assignment)
    members = _tally(CourseRole.course_id, CourseRole.updated_at)
    query = db.select(Course, Platform.issuer).join(Platform, Platform.id == Course.platform_id)
    if platform_id is not None:
        query = query.where(Course.platform_id == platform_id)
    found = []
    for course, issuer in db.session.execute(query):
        stamps = [course.created_at] + [t[course.id][1] for t in (assignments, essays, grades, members)
                                        if course.id in t and t[course.id][1] is not None]
        found.append(CourseSummary(
            id=course.id, issuer=issuer, context_id=course.context_id, title=course.title,
            assignments=assignments.get(course.id, (0,))[0], essays=essays.get(course.id, (0,))[0],
            grades=grades.get(course.id, (0,))[0], last_activity=max(as_utc(s) for s in stamps)))
    return sorted(found, key=lambda s: (s.last_activity, s.id))


def inactive(courses: list[CourseSummary], days: int) -> list[CourseSummary]:
    cutoff = utcnow() - timedelta(days=days)
    return [c for c in courses if c.last_activity < cutoff]


@dataclass(frozen=True)
class Plan:
    """What the admin is shown and agrees to delete for one course."""
    course: CourseSummary
    words: str
    running: list[int]       # assignments whose training is running
    members: tuple           # `_members` as listed: what `forget_course` checks again


def _members(course_id: int) -> tuple:
    """(roles, newest role change, resource links, newest link) of the course. A new resource link
    is a launch the last activity does not count (a returning person opening another link in the
    LMS writes no role row), yet it means the course is in use."""
    roles = db.session.execute(db.select(db.func.count(), db.func.max(CourseRole.updated_at))
                               .where(CourseRole.course_id == course_id)).one()
    links = db.session.execute(db.select(db.func.count(), db.func.max(ResourceLink.created_at))
                               .where(ResourceLink.course_id == course_id)).one()
    return (*roles, *links)


def _plan(course: CourseSummary, forget: bool = False) -> Plan:
    """What deleting the course removes, in words, and its assignments whose training is running."""
    from worker.handlers.training import lease_key   # plain module: the trainer loads torch lazily
    from worker.leases import holder

    ids = db.session.scalars(db.select(Assignment.id).filter_by(course_id=course.id)).all()
    versions = db.session.scalar(db.select(db.func.count(ModelVersion.id))
                                 .where(ModelVersion.assignment_id.in_(ids))) if ids else 0
    running = [i for i in ids if holder(lease_key(i)) is not None]
    members = _members(course.id)
    words = (f"course {course.id} ({course.issuer} {course.context_id}, {course.title or 'untitled'}): "
             f"{_counted(course.assignments, 'assignment')}, {_counted(course.essays, 'essay')}, "
             f"{_counted(course.grades, 'grade')}, {_counted(versions, 'model version')} (rows and files)")
    if forget:
        words += (f"; then the course itself: its title and LMS id, {_counted(members[0], 'course role')} and "
                  f"{_counted(members[2], 'resource link')}")
    return Plan(course, words, running, members)


def _show(plans: list[Plan], dry_run: bool) -> None:
    """The plans, as what the command will delete or, on a dry run, would delete."""
    for plan in plans:
        click.echo(f"{'would delete' if dry_run else 'will delete'} {plan.words}")
    if dry_run:
        click.echo("dry run: nothing deleted")


def _unchanged(planned: list[CourseSummary]) -> list[CourseSummary]:
    """The planned courses with no activity since they were listed. Read again after the prompt,
    which may wait for minutes: an essay handed in meanwhile was never in what the admin agreed to
    delete, so that course is skipped and said so."""
    now = {c.id: c.last_activity for c in summaries()}
    kept = [c for c in planned if now.get(c.id) == c.last_activity]
    for course in planned:
        if course not in kept:
            click.echo(f"course {course.id}: skipped, it had activity after it was listed; run the command again")
    return kept


def forget_course(course_id: int, members: tuple) -> bool:
    """Delete the course row with its people's course roles and its resource links, once its data
    is gone; False (nothing deleted) when it holds an assignment again or its roles or links differ
    from `members` as listed: someone opened it meanwhile. The course row is locked first (on
    SQLite the database's write lock), so a launch or new assignment meanwhile either came first
    and is seen here, or waits and then fails on the missing course; opened again, the LMS's
    launch makes a new course. Explicit deletes, children first: SQLite may run without foreign-key
    enforcement. Commits."""
    if db.session.execute(for_update(db.select(Course.id).where(Course.id == course_id))).first() is None:
        db.session.rollback()
        return True   # forgotten meanwhile by another run
    busy = db.session.scalar(db.select(db.func.count(Assignment.id)).where(Assignment.course_id == course_id))
    if busy or _members(course_id) != members:
        db.session.rollback()
        return False
    for model in (CourseRole, ResourceLink):
        db.session.execute(db.delete(model).where(model.course_id == course_id))
    db.session.execute(db.delete(Course).where(Course.id == course_id))
    db.session.commit()
    return True


def _delete(plan: Plan, forget: bool) -> None:
    course = plan.course
    if course.assignments:
        deleted = delete_course_data(course.id)
        click.echo(f"course {course.id}: deleted {_counted(deleted, 'assignment')} with all essays, grades and models")
    if plan.running:
        # As on the teacher's page: no waiting for the run (it may take an hour), but say why its
        # folder may outlive the command for a while.
        click.echo(f"  a training is running for assignment(s) {', '.join(map(str, plan.running))}: it stops when "
                   "it finds the assignment gone and removes the version it was writing; the worker's scheduler "
                   "removes anything a killed run leaves behind")
    if not forget:
        return
    if forget_course(course.id, plan.members):
        click.echo(f"course {course.id}: forgotten (title, LMS id, course roles, resource links); a launch of it "
                   "from the LMS makes a new, empty course")
    else:
        click.echo(f"course {course.id}: the course itself was kept, someone opened it after it was listed; "
                   "run the command again")


FORGET_HELP = ("also delete the course itself: its title, LMS id, people's course roles and resource links "
               "(a later launch from the LMS makes a new, empty course)")


course_group = click.Group("course", help="Whole courses: list them with their last activity, delete their data.")


def known_platform(platform_id: int | None) -> None:
    """A mistyped `--platform` must not read as "nothing to do" (the last step of removing an LMS)."""
    from lti_app.platforms import get_platform

    if platform_id is not None:
        try:
            get_platform(platform_id)
        except ValueError as exc:
            raise click.ClickException(str(exc)) from exc


def _days(n: int) -> str:
    return f"{n} day{'' if n == 1 else 's'}"


@course_group.command("list")
@click.option("--platform", "platform_id", type=ROW_ID, help="only the courses of this platform (its id)")
@click.option("--inactive-days", type=DAYS, help="only courses with no activity for N days")
@with_appcontext
def list_command(platform_id, inactive_days):
    """One line per course, oldest activity first: id, LMS issuer, LMS context id, title, counts,
    last activity (the newest launch, assignment, hand-in or grade Gradeloop recorded)."""
    known_platform(platform_id)
    courses = summaries(platform_id)
    if inactive_days is not None:
        courses = inactive(courses, inactive_days)
    for course in courses:
        click.echo(course.line())
    if not courses:
        click.echo("no courses")


@course_group.command("delete")
@click.option("--course", "course_id", type=ROW_ID, required=True, help="Gradeloop's course id (`course list`)")
@click.option("--forget", is_flag=True, help=FORGET_HELP)
@click.option("--dry-run", is_flag=True, help="only say what would be deleted")
@click.option("--yes", is_flag=True, help="do not ask for confirmation")
@with_appcontext
def delete_command(course_id, forget, dry_run, yes):
    """Delete one course's data, as its teacher's *Delete this course's data* does (with --forget,
    the course too)."""
    course = next((c for c in summaries() if c.id == course_id), None)
    if course is None:
        raise click.ClickException(f"no course {course_id} in Gradeloop (`gradeloop course list`)")
    if not course.assignments and not forget:
        click.echo(f"course {course_id} holds no assignments: nothing to delete (--forget deletes the course "
                   "itself)")
        return
    plan = _plan(course, forget)
    _show([plan], dry_run)
    if dry_run:
        return
    if not yes:
        click.confirm("Delete this course and its data?" if forget else "Delete this course's data?", abort=True)
    if _unchanged([course]):
        _delete(plan, forget)
    click.echo(LMS_KEEPS)


@course_group.command("purge")
@click.option("--inactive-days", type=DAYS, required=True,
              help="delete the data of courses with no activity for N days")
@click.option("--platform", "platform_id", type=ROW_ID, help="only the courses of this platform (its id)")
@click.option("--forget", is_flag=True, help=FORGET_HELP + "; courses already empty are included")
@click.option("--dry-run", is_flag=True, help="only list what would be deleted")
@click.option("--yes", is_flag=True, help="do not ask for confirmation")
@with_appcontext
def purge_command(inactive_days, platform_id, forget, dry_run, yes):
    """Delete the data of every course inactive for N days (see `course list` for what counts as
    activity). Courses already empty are left out, unless --forget."""
    known_platform(platform_id)
    courses = [c for c in inactive(summaries(platform_id), inactive_days) if c.assignments or forget]
    if not courses:
        click.echo(f"no course {'' if forget else 'with data '}has been inactive for {_days(inactive_days)}")
        return
    plans = [_plan(course, forget) for course in courses]
    _show(plans, dry_run)
    if dry_run:
        return
    if not yes:
        click.confirm(f"Delete {'these' if forget else 'the data of these'} {len(plans)} course(s)"
                      f"{' and their data' if forget else ''}?", abort=True)
    still = _unchanged([plan.course for plan in plans])
    for plan in plans:
        if plan.course in still:
            _delete(plan, forget)   # one commit per course: a failure keeps the courses done so far
    click.echo(LMS_KEEPS)
