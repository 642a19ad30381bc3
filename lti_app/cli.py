"""The `gradeloop` command: a Flask CLI group on the app factory (serve, worker, run, platform...).

Flask-Migrate's `db` group comes with it (`gradeloop db upgrade`).
"""
from __future__ import annotations

import os
import sys

import click
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext

from lti_app import create_app
from lti_app.cli_types import CONCURRENCY, PORT, ROW_ID


def _factory():
    return create_app()


# SQLSTATEs of a missing table or column on PostgreSQL (psycopg 3 `sqlstate`, psycopg2 `pgcode`).
_UNDEFINED_TABLE_OR_COLUMN = {"42P01", "42703"}


def _missing_schema(exc) -> bool:
    """Whether a database error means tables or columns are missing (the schema is behind), as
    opposed to anything else that says "does not exist": `FATAL: database "gradeloop" does not
    exist` or a missing role is a connection problem, and calling it "not migrated" sent operators
    to `gradeloop db upgrade`, which failed the same way."""
    orig = getattr(exc, "orig", None)
    code = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    if code is not None:
        return code in _UNDEFINED_TABLE_OR_COLUMN
    text = str(orig if orig is not None else exc).lower()
    return "no such table" in text or "no such column" in text   # SQLite's words, no codes


class _GradeloopGroup(FlaskGroup):
    """Commands run against the database; on one that was never migrated (or is behind) a bare
    SQL traceback ("no such table: platforms") left an operator guessing. Say what to run.
    Other database errors (cannot connect, no such database) keep their own message.

    Flask's group options are dropped: settings come from the environment only (`-e/--env-file`
    needed python-dotenv, which is not installed), `-A/--app` would swap the application, and
    `--debug` would turn on Flask's debug mode."""

    _FLASK_OPTIONS = {"env_file", "app", "debug"}

    def __init__(self, **kwargs):
        super().__init__(load_dotenv=False, set_debug_flag=False, **kwargs)
        self.params = [p for p in self.params if p.name not in self._FLASK_OPTIONS]

    def invoke(self, ctx):
        from sqlalchemy.exc import OperationalError, ProgrammingError

        try:
            return super().invoke(ctx)
        except (OperationalError, ProgrammingError) as exc:
            # A migration that fails on a missing table is a broken migration, not a database
            # that needs the very command that just failed.
            if _missing_schema(exc) and ctx.invoked_subcommand not in ("upgrade-db", "db"):
                raise click.ClickException(
                    "The database is not migrated (or is behind this version of Gradeloop): run "
                    f"`gradeloop db upgrade` first. ({str(exc.orig or exc).splitlines()[0]})") from exc
            raise


@click.group(cls=_GradeloopGroup, create_app=_factory, add_default_commands=False, add_version_option=False,
             help="Gradeloop: LTI 1.3 essay feedback tool.")
@click.version_option(package_name="gradeloop", prog_name="gradeloop")   # not Flask's and Python's versions
def main() -> None:
    pass


# Flask's own `routes` and `shell` are handy for operators.
from flask.cli import routes_command, shell_command  # noqa: E402

main.add_command(routes_command)
main.add_command(shell_command)


def register(command: click.Command) -> click.Command:
    """Feature modules call this to add their commands (`bench`, `pretrain`, ...)."""
    main.add_command(command)
    return command


@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=PORT)
@click.option("--workers", default=None, type=click.IntRange(min=1), help="gunicorn worker processes (default: 2 per available CPU, 2 to 8; GRADELOOP_WEB_WORKERS)")
@click.option("--threads", default=4, show_default=True, type=click.IntRange(min=1))
@click.option("--migrate", is_flag=True, help="apply pending database migrations before serving")
def serve_command(host: str, port: int, workers: int | None, threads: int, migrate: bool) -> None:
    """Serve the web app with gunicorn (production WSGI server)."""
    from lti_app.serving import serve

    serve(host, port, workers=workers, threads=threads, migrate=migrate)


@main.command("upgrade-db")
@with_appcontext
def upgrade_db_command() -> None:
    """Apply all database migrations (same as `gradeloop db upgrade`)."""
    from lti_app.serving import upgrade_database

    upgrade_database()
    click.echo("database is at the latest revision")


platform_group = click.Group("platform", help="Register, list, disable and remove LMS platforms.")
main.add_command(platform_group)


def _platform_summary(p) -> list[str]:
    """What an LMS administrator needs to check a registration against the LMS's own settings."""
    from lti_app.lti import jwks_cache, registry

    status = f"disabled since {p.disabled_at:%Y-%m-%d %H:%M}" if p.disabled_at else "enabled"
    deps = ", ".join(sorted(d.deployment_id for d in p.deployments)) or (
        "none yet (the deployment of its first validly signed launch will be recorded)")
    lines = [f"{p.id}\t{p.name or '-'}\t{status}" + (f"\t{p.product_family}" if p.product_family else ""),
             f"  issuer:          {p.issuer}",
             f"  client id:       {p.client_id}",
             f"  deployments:     {deps}",
             f"  login (OIDC):    {p.auth_login_url}",
             f"  token:           {p.auth_token_url}" + (f" (audience {p.auth_audience})" if p.auth_audience else ""),
             f"  key set (JWKS):  {p.key_set_url}"]
    info = registry.by_id(p.id, fresh=True)
    if p.key_set and info is not None:
        kids = ", ".join(str(k.get("kid")) for k in p.key_set.get("keys", []) if isinstance(k, dict))
        lines.append(f"  keys cached:     {kids or '-'} (fetched {p.key_set_fetched_at:%Y-%m-%d %H:%M} UTC, "
                     f"refetched after {int(jwks_cache.max_age(info))} s)")
    else:
        lines.append("  keys cached:     none (fetched at the next launch)")
    return lines


def _admin_call(fn, *args):
    try:
        return fn(*args)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc


@platform_group.command("add")
@click.option("--issuer", required=True, help="the platform's 'iss', exactly as in its id_tokens")
@click.option("--client-id", required=True)
@click.option("--deployment-id", "deployment_ids", multiple=True,
              help="repeatable; needed for a new platform, added to an existing one")
@click.option("--auth-login-url", default=None, help="OIDC authorization endpoint (new platform: required)")
@click.option("--auth-token-url", default=None, help="OAuth2 token endpoint (new platform: required)")
@click.option("--key-set-url", default=None, help="the platform's JWKS URL (new platform: required)")
@click.option("--auth-audience", default=None, help="'aud' of token requests when not the token URL")
@click.option("--name", default="")
@with_appcontext
def platform_add(issuer, client_id, deployment_ids, auth_login_url, auth_token_url, key_set_url,
                 auth_audience, name):
    """Register a platform, or update one: only the options given change it (re-running it to add
    a deployment keeps the URLs and token audience already stored)."""
    from lti_app.platforms import find_platform, upsert_platform

    if find_platform(issuer, client_id) is None and not deployment_ids:
        raise click.ClickException(
            "a new platform needs --deployment-id (Moodle: the tool's Deployment ID in Manage tools; "
            "Canvas: Settings > Apps > the app's gear > Deployment Id)")
    try:
        platform = upsert_platform(issuer=issuer, client_id=client_id, deployment_ids=deployment_ids,
                                   auth_login_url=auth_login_url, auth_token_url=auth_token_url,
                                   key_set_url=key_set_url, name=name, auth_audience=auth_audience)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo("\n".join(_platform_summary(platform)))


@platform_group.command("list")
@with_appcontext
def platform_list():
    """List registered platforms with their endpoints, deployments and cached keys."""
    from lti_app.models import Platform
    from lti_app.extensions import db

    rows = db.session.scalars(db.select(Platform).order_by(Platform.id)).all()
    if not rows:
        click.echo("no platforms registered")
    for p in rows:
        click.echo("\n".join(_platform_summary(p)))


@platform_group.command("remove-deployment")
@click.argument("platform_id", type=ROW_ID)
@click.argument("deployment_id")
@with_appcontext
def platform_remove_deployment(platform_id, deployment_id):
    """Refuse launches from one deployment of a platform (its courses are kept)."""
    from lti_app.platforms import remove_deployment

    platform = _admin_call(remove_deployment, platform_id, deployment_id)
    click.echo(f"deployment {deployment_id!r} removed; platform {platform.id} keeps: "
               f"{', '.join(d.deployment_id for d in platform.deployments)}")


def _switch(name: str, disabled: bool, help_text: str, said: str) -> None:
    """`platform disable` / `platform enable`: the same command but for the state it sets."""
    @platform_group.command(name, help=help_text)
    @click.argument("platform_id", type=ROW_ID)
    @with_appcontext
    def command(platform_id):
        from lti_app.platforms import set_disabled

        platform = _admin_call(set_disabled, platform_id, disabled)
        click.echo(f"platform {platform.id} ({platform.issuer}) is {name}d{said.format(id=platform.id)}")


_switch("disable", True, "Refuse every login and launch from a platform; its courses and data are kept.",
        ": its logins and launches are refused (within 10 s in running web processes, at the next page for open "
        "sessions). Its courses and data are kept; `gradeloop platform enable {id}` undoes this.")
_switch("enable", False, "Accept logins and launches from a disabled platform again.", "")


@platform_group.command("remove")
@click.argument("platform_id", type=ROW_ID)
@click.option("--yes", is_flag=True, help="do not ask for confirmation")
@with_appcontext
def platform_remove(platform_id, yes):
    """Delete a platform that holds no courses and no people (a mistaken or unwanted registration,
    or an LMS no longer used).

    A platform with courses or people is refused: use `disable`, which keeps its data, or delete
    them first (the refusal says how)."""
    from lti_app.platforms import get_platform, platform_holdings, remove_platform

    platform = _admin_call(get_platform, platform_id)
    courses, people = platform_holdings(platform_id)
    if not courses and not people and not yes:
        click.confirm(f"Remove platform {platform.id} ({platform.issuer}, client {platform.client_id})?", abort=True)
    _admin_call(remove_platform, platform_id)
    click.echo(f"platform {platform_id} removed")


@platform_group.command("move-courses")
@click.argument("from_id", type=ROW_ID)
@click.argument("to_id", type=ROW_ID)
@click.option("--same-school", is_flag=True,
              help="the issuer is shared by many schools (Canvas cloud) and the two registrations have no "
                   "deployment id in common: confirm that both are this school's")
@with_appcontext
def platform_move_courses(from_id, to_id, same_school):
    """Move an LMS's courses and people from its old registration FROM_ID to its new one TO_ID,
    and disable FROM_ID.

    For an LMS that registered Gradeloop again (Moodle tool deleted and added back, a new Canvas
    developer key): launches through the new registration otherwise find every course empty."""
    from lti_app.reregistration import move_courses

    moved = _admin_call(lambda: move_courses(from_id, to_id, same_school_confirmed=same_school))
    click.echo(f"moved {moved.courses} course(s) and {moved.people} person(s) from platform {from_id} to "
               f"platform {to_id}; platform {from_id} is disabled (its logins and launches are refused)")
    if moved.retired_courses or moved.retired_people:
        click.echo(f"platform {from_id} keeps the {moved.retired_courses} empty course copy(ies) and "
                   f"{moved.retired_people} person copy(ies) that launches through platform {to_id} had made, "
                   f"retired (no launch finds them) so that their ids are never given out again: "
                   f"`gradeloop platform remove {from_id}` refuses it, leave it disabled")
    else:
        click.echo(f"`gradeloop platform remove {from_id}` deletes it when nothing more is to come from it")


@platform_group.command("refresh-keys")
@click.argument("platform_id", type=ROW_ID, required=False)
@with_appcontext
def platform_refresh_keys(platform_id):
    """Fetch the platform's signing keys (JWKS) now; every platform without PLATFORM_ID."""
    from lti_app.extensions import db
    from lti_app.lti import jwks_cache
    from lti_app.lti.errors import LaunchError
    from lti_app.models import Platform

    ids = [platform_id] if platform_id is not None else db.session.scalars(
        db.select(Platform.id).order_by(Platform.id)).all()
    failed = False
    for pid in ids:
        try:
            key_set = jwks_cache.refresh_now(pid)
        except LaunchError as exc:
            failed = True
            click.echo(f"platform {pid}: {exc.message}", err=True)
            continue
        kids = ", ".join(str(k.get("kid")) for k in key_set.get("keys", []) if isinstance(k, dict))
        click.echo(f"platform {pid}: {len(key_set.get('keys', []))} key(s): {kids}")
    if failed:
        sys.exit(1)


@main.command("worker")
@click.option("--queues", default=None, help="comma-separated: scoring,training,gradebook (default all)")
@click.option("--concurrency", default=1, show_default=True, type=CONCURRENCY)
@with_appcontext
def worker_command(queues: str | None, concurrency: int) -> None:
    """Run the queue consumer."""
    from lti_app.serving import schema_problem
    from worker.runner import run_worker

    problem = schema_problem()
    if problem:   # else every job would fail on a missing table, retry and end as a dead letter
        raise click.ClickException(f"gradeloop worker: {problem}")
    run_worker(current_app._get_current_object(),
               queues=[q.strip() for q in queues.split(",")] if queues else None,
               concurrency=concurrency)


@main.command("run")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=PORT)
@click.option("--sandbox-port", default=8100, show_default=True, type=PORT)
def run_command(host: str, port: int, sandbox_port: int) -> None:
    """Web + worker + sandbox LMS on embedded defaults (what `make run` starts)."""
    from lti_app.devrun import run_all

    sys.exit(run_all(host=host, port=port, sandbox_port=sandbox_port))


from worker.cli import COMMANDS as _WORKER_COMMANDS  # noqa: E402  (worker-status, deadletters)

for _command in _WORKER_COMMANDS:
    main.add_command(_command)

from worker.ml.cli import bench_command, model_group, pretrain_command  # noqa: E402  (course models)

main.add_command(bench_command)
main.add_command(pretrain_command)
main.add_command(model_group)

from lti_app.erasure import privacy_group  # noqa: E402  (data-protection requests)
from lti_app.people_admin import erase_people_command  # noqa: E402  (retention: people left in no course)

privacy_group.add_command(erase_people_command)
main.add_command(privacy_group)

from lti_app.course_admin import course_group  # noqa: E402  (whole courses: list, retention deletes)

main.add_command(course_group)


if __name__ == "__main__":  # pragma: no cover
    os.environ.setdefault("GRADELOOP_ENV", "development")
    main()
