"""Operator commands for the worker: `gradeloop worker-status`, `gradeloop deadletters list|requeue`."""
from __future__ import annotations

import json
import socket
import sys

import click
from flask.cli import with_appcontext

from lti_app.cli_types import ROW_ID
from worker.settings import WorkerSettings


@click.command("worker-status")
@click.option("--json", "as_json", is_flag=True, help="machine-readable output")
@click.option("--check", "check_host", is_flag=True,
              help="exit 1 unless a worker on this host sent a heartbeat recently (docker healthcheck)")
@with_appcontext
def worker_status_command(as_json: bool, check_host: bool) -> None:
    """Show workers (from their heartbeats), the outbox backlog and open dead letters."""
    from flask import current_app

    from worker import health

    stale_after = health.STALE_BEATS * WorkerSettings.from_app(current_app).heartbeat_seconds
    if check_host:
        host = socket.gethostname()
        if health.is_healthy(host, stale_after):
            sys.exit(0)
        # The healthcheck reads only the exit code; an administrator who types it learns why.
        mine = [r for r in health.worker_rows(stale_after) if r["hostname"] == host]
        states = "its workers: " + "; ".join(f"{r['worker_id']} {r['status']}, last seen {r['age_seconds']}s ago"
                                              for r in mine) if mine else "no worker there has reported"
        click.echo(f"no healthy worker on host {host} ({states}); see `gradeloop worker-status`", err=True)
        sys.exit(1)
    rows, summary = health.worker_rows(stale_after), health.summary()
    if as_json:
        click.echo(json.dumps({"workers": rows, **summary}))
        return
    if not rows:
        click.echo("no workers have reported yet")
    for r in rows:
        click.echo(f"{r['worker_id']}\t{r['status']}\t{','.join(r['queues'])}\tlast seen {r['age_seconds']}s ago")
    click.echo(f"outbox: {summary['outbox_unpublished']} unpublished; dead letters: {summary['dead_letters']} open")


@click.group("deadletters")
def deadletters_group() -> None:
    """Messages that failed for good: list them, requeue one."""


@deadletters_group.command("list")
@click.option("--assignment", "assignment_id", type=ROW_ID, default=None, help="only the dead letters of this assignment (its id)")
@click.option("--all", "include_requeued", is_flag=True, help="include dead letters already requeued")
@with_appcontext
def deadletters_list(assignment_id, include_requeued) -> None:
    """Open dead letters, newest first (id, queue, event type, attempts, state, reason)."""
    from worker.deadletters import list_dead_letters

    rows = list_dead_letters(assignment_id, include_requeued)
    if not rows:
        click.echo("no dead letters")
    for d in rows:
        state = f"requeued {d.requeued_at:%Y-%m-%d %H:%M}" if d.requeued_at else "open"
        kind = d.payload.get("type", "?") if isinstance(d.payload, dict) else "?"
        click.echo(f"{d.id}\t{d.queue}\t{kind}\tattempts={d.attempts}\t{state}\t{d.reason[:200]}")


@deadletters_group.command("requeue")
@click.argument("dead_letter_id", type=ROW_ID)
@with_appcontext
def deadletters_requeue(dead_letter_id: int) -> None:
    """Send a dead letter's message again with a fresh attempt budget (once per dead letter)."""
    from worker.deadletters import requeue

    try:
        row = requeue(dead_letter_id)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"dead letter {row.id} requeued (message {row.message_id}); the worker's relay sends it")


COMMANDS = (worker_status_command, deadletters_group)
