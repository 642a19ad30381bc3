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


def _factory():
    return create_app()


@click.group(cls=FlaskGroup, create_app=_factory, add_default_commands=False,
             help="Gradeloop: LTI 1.3 essay feedback tool.")
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
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=None, type=int, help="gunicorn worker processes (default: 2 x cores)")
@click.option("--threads", default=4, show_default=True, type=int)
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


platform_group = click.Group("platform", help="Register and list LMS platforms.")
main.add_command(platform_group)


@platform_group.command("add")
@click.option("--issuer", required=True)
@click.option("--client-id", required=True)
@click.option("--deployment-id", "deployment_ids", multiple=True, required=True)
@click.option("--auth-login-url", required=True)
@click.option("--auth-token-url", required=True)
@click.option("--key-set-url", required=True)
@click.option("--name", default="")
@with_appcontext
def platform_add(issuer, client_id, deployment_ids, auth_login_url, auth_token_url, key_set_url, name):
    """Register a platform (or update it, and add deployments)."""
    from lti_app.platforms import upsert_platform

    try:
        platform = upsert_platform(issuer=issuer, client_id=client_id, deployment_ids=deployment_ids,
                                   auth_login_url=auth_login_url, auth_token_url=auth_token_url,
                                   key_set_url=key_set_url, name=name)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"platform {platform.id}: {platform.issuer} client {platform.client_id} "
               f"deployments {', '.join(d.deployment_id for d in platform.deployments)}")


@platform_group.command("list")
@with_appcontext
def platform_list():
    """List registered platforms."""
    from lti_app.models import Platform
    from lti_app.extensions import db

    rows = db.session.scalars(db.select(Platform).order_by(Platform.id)).all()
    if not rows:
        click.echo("no platforms registered")
    for p in rows:
        deps = ",".join(d.deployment_id for d in p.deployments)
        click.echo(f"{p.id}\t{p.name or '-'}\t{p.issuer}\t{p.client_id}\t{deps}")


@main.command("worker")
@click.option("--queues", default=None, help="comma-separated: scoring,training,gradebook (default all)")
@click.option("--concurrency", default=1, show_default=True, type=int)
@with_appcontext
def worker_command(queues: str | None, concurrency: int) -> None:
    """Run the queue consumer."""
    from worker.runner import run_worker

    run_worker(current_app._get_current_object(),
               queues=[q.strip() for q in queues.split(",")] if queues else None,
               concurrency=concurrency)


@main.command("run")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--sandbox-port", default=8100, show_default=True, type=int)
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

main.add_command(privacy_group)


if __name__ == "__main__":  # pragma: no cover
    os.environ.setdefault("GRADELOOP_ENV", "development")
    main()
