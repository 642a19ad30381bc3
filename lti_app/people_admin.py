"""`gradeloop privacy erase-people --without-data`: erase, in bulk, the people Gradeloop holds
nothing else for, the last step of a retention policy.

A course deleted with `gradeloop course delete|purge --forget` takes its people's course roles
with it, but not the people: their user rows (name, e-mail, LMS user id) stay, since a person may
be in other courses too. Once a person is in no course and has no essay left (neither their own nor
a course copy's training essay noted as theirs), nothing ties them to any coursework: this command
lists those people (of one LMS with `--platform`) and erases each with `erasure.erase_user`, as
`gradeloop privacy erase-user` would. Grades they gave as teachers stay, without their name. The
copies that `gradeloop platform move-courses` retired (no name, no LMS id) are left alone: a tool
session names them by id.

As `gradeloop course purge` does, it lists first, asks unless `--yes` (`--dry-run` only lists),
and checks each person again when it erases them, locked: someone who opened Gradeloop after the
list was printed is in a course again and is skipped, and said so.
"""
from __future__ import annotations

import click
from flask.cli import with_appcontext

from lti_app.cli_types import ROW_ID
from lti_app.course_admin import known_platform
from lti_app.erasure import erase_user
from lti_app.extensions import db
from lti_app.locking import for_update
from lti_app.models import CourseRole, Platform, Submission, User
from lti_app.reregistration import RETIRED


def _without_data(query):
    """`query` (on users) narrowed to people in no course, with no essay of their own and none
    that a course copy holds as training data (`Submission.source_user_id`): erasing them would
    delete that copy from a course still in use."""
    return query.where(~db.select(CourseRole.id).where(CourseRole.user_id == User.id).exists(),
                       ~db.select(Submission.id).where(Submission.user_id == User.id).exists(),
                       ~db.select(Submission.id).where(Submission.source_user_id == User.id).exists(),
                       ~User.sub.startswith(RETIRED))


def people_without_data(platform_id: int | None = None) -> list[tuple[User, str]]:
    """(person, their LMS's issuer) for each person in no course and with no essay, oldest first."""
    query = _without_data(db.select(User, Platform.issuer).join(Platform, Platform.id == User.platform_id))
    if platform_id is not None:
        query = query.where(User.platform_id == platform_id)
    return [tuple(row) for row in db.session.execute(query.order_by(User.id))]


def erase_if_still_without_data(user_id: int) -> bool:
    """Erase the person if they are still in no course and have no essay; False when they are
    not (a launch meanwhile made them a member) or are gone. Their user row is locked first (on
    SQLite the database's write lock): a launch that makes them a member either came first and is
    seen here, or waits and then fails on the missing person (opened again, the LMS's launch makes
    them anew). Commits."""
    user = db.session.scalar(for_update(_without_data(db.select(User).where(User.id == user_id))))
    if user is None:
        db.session.rollback()
        return False
    erase_user(user)
    return True


def _person(user: User, issuer: str) -> str:
    return f"person {user.id}\t{issuer}\t{user.sub}\t{user.name or '-'}\tfirst seen {user.created_at:%Y-%m-%d}"


@click.command("erase-people")
@click.option("--without-data", is_flag=True,
              help="the people in no course and with no essay left (after `gradeloop course delete|purge --forget`)")
@click.option("--platform", "platform_id", type=ROW_ID, help="only the people of this platform (its id)")
@click.option("--dry-run", is_flag=True, help="only list who would be erased")
@click.option("--yes", is_flag=True, help="do not ask for confirmation")
@with_appcontext
def erase_people_command(without_data, platform_id, dry_run, yes):
    """Erase every person Gradeloop holds nothing else for: their name, e-mail and LMS user id."""
    if not without_data:
        raise click.UsageError("say whom to erase: --without-data (the people in no course and with no essay left)")
    known_platform(platform_id)
    people = people_without_data(platform_id)
    if not people:
        click.echo("no one is held without a course or an essay")
        return
    for user, issuer in people:
        click.echo(f"{'would erase' if dry_run else 'will erase'} {_person(user, issuer)}")
    if dry_run:
        click.echo("dry run: no one erased")
        return
    if not yes:
        click.confirm(f"Erase these {len(people)} people?", abort=True)
    erased = 0
    for user_id in [user.id for user, _ in people]:   # ids: each erasure's commit expires the rows read
        if erase_if_still_without_data(user_id):   # one commit per person
            erased += 1
        else:
            click.echo(f"person {user_id}: skipped, they opened Gradeloop after they were listed (or were erased "
                       "meanwhile); run the command again")
    click.echo(f"erased {erased} {'person' if erased == 1 else 'people'} (name, e-mail, LMS user id); grades they "
               "gave as teachers stay, without their name")
