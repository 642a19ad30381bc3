"""Deleting launch bookkeeping nobody can use any more: login states past their 10 minutes,
nonces whose id_token has expired (a replay fails the exp check anyway), and deep linking
requests older than the longest tool session (GRADELOOP_SESSION_MAX_HOURS). Runs every `EVERY`
logins per process, and as `gradeloop lti purge`."""
from __future__ import annotations

import itertools
import logging
from datetime import datetime, timedelta, timezone

import click
from flask.cli import with_appcontext
from sqlalchemy import delete

from lti_app.auth import longest_seconds
from lti_app.extensions import db
from lti_app.models import DeepLinkingRequest, LoginState, UsedNonce

log = logging.getLogger(__name__)
EVERY = 1000
LOGIN_STATE_KEEP = timedelta(hours=1)
_logins = itertools.count(1)


def purge_expired(now: datetime | None = None) -> dict[str, int]:
    now = now or datetime.now(timezone.utc)
    longest_session = timedelta(seconds=longest_seconds())
    counts = {
        "login_states": db.session.execute(
            delete(LoginState).where(LoginState.created_at < now - LOGIN_STATE_KEEP)).rowcount,
        "used_nonces": db.session.execute(delete(UsedNonce).where(UsedNonce.expires_at < now)).rowcount,
        "deep_linking_requests": db.session.execute(delete(DeepLinkingRequest).where(
            DeepLinkingRequest.created_at < now - longest_session)).rowcount,
    }
    db.session.commit()
    return counts


def after_login() -> None:
    if next(_logins) % EVERY == 0:
        log.info("purged expired LTI launch state: %s", purge_expired())


lti_group = click.Group("lti", help="LTI launch bookkeeping.")


@lti_group.command("purge")
@with_appcontext
def purge_command() -> None:
    """Delete expired login states, nonces and deep linking requests."""
    counts = purge_expired()
    click.echo(", ".join(f"{n} {name}" for name, n in counts.items()) + " deleted")
