"""Click types for the numbers admin commands take, bounded so a number out of range is a usage
error in words, not a traceback from the database or the date arithmetic."""
from __future__ import annotations

import click

from lti_app.routing import MAX_ID

# A row id (platform, course, assignment, dead letter, model version): the id columns hold
# 1..MAX_ID, and a bigger number failed the query (SQLite OverflowError, PostgreSQL DataError).
ROW_ID = click.IntRange(1, MAX_ID)
# "No activity for N days": a century is older than any course; a bigger N overflowed the date.
DAYS = click.IntRange(1, 36_500)
PORT = click.IntRange(1, 65_535)
# Handler threads per worker; the broker's prefetch count equals it and AMQP holds at most 65,535.
CONCURRENCY = click.IntRange(1, 1_000)
