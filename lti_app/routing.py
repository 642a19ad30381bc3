"""The `int` URL converter every Gradeloop route uses: row ids, bounded by what the database holds.

Ids in URLs are primary keys (INTEGER: 32-bit signed on PostgreSQL, 64-bit on SQLite). Werkzeug's
own `int` accepts any number of digits, so `/coursework/a/99999999999/essay` reached the query and
the database refused the parameter (PostgreSQL NumericValueOutOfRange, SQLite OverflowError): a 500.
No row can have such an id, so the URL matches no route and answers 404 like any unknown id.
"""
from __future__ import annotations

from flask import Flask
from werkzeug.routing import IntegerConverter

# The largest PostgreSQL INTEGER (int4), the type of every primary key in lti_app.models.
MAX_ID = 2**31 - 1


class IdConverter(IntegerConverter):
    """`<int:...>` with `max` defaulting to MAX_ID (a rule may still pass its own bounds)."""

    def __init__(self, map, fixed_digits: int = 0, min: int | None = None, max: int | None = MAX_ID,
                 signed: bool = False) -> None:
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def init_app(app: Flask) -> None:
    """Must run before any route is added: a rule takes its converter when it is added."""
    app.url_map.converters["int"] = IdConverter
