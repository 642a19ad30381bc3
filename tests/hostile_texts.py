"""Texts shaped to make a text check slow, for the worker's and the web app's tests: a student can
hand one in (up to the 100,000-character essay limit) as often as they like, and a teacher can
type one into a comment (20,000 characters) or a CSV. While a Python regular expression or loop
runs it holds the GIL, so the worker's heartbeat threads, or every thread of a web process, wait.
Each shape made some pattern or loop quadratic (minutes at the limit) before it was fixed."""
from __future__ import annotations

ESSAY_LIMIT = 99_000     # under GRADELOOP_MAX_ESSAY_CHARS (100,000) with a real essay's start added
COMMENT_LIMIT = 19_000   # under schemas.MAX_COMMENT (20,000)


def _shapes(limit: int) -> dict[str, str]:
    return {
        "blank lines ending on no letter": "Cars are loud.\n" + "\n" * limit + "1",
        "one endless word": "Cars are loud. " + "a" * limit,
        "an endless word with accents": "Cars are loud. " + "a\u0301" * (limit // 2),
        "an endless word with apostrophes": "Cars are loud. " + "a'" * (limit // 2),
        "endless hyphenated words": "Cars are loud. " + "ab-" * (limit // 3),
        "endless dotted names": "Cars are loud. " + "ab." * (limit // 3),
        "endless full stops": "Cars are loud. " + ". " * (limit // 2),
        "endless capitals": "Cars are loud. " + "A" * limit,
        "endless brackets and quotes": "Cars are loud. " + "(\"" * (limit // 2),
        "endless commas": "Cars are loud, " + "a," * (limit // 2),
        # A sentence cut after each abbreviation was built up and searched whole at each one.
        "endless abbreviations": "Cars are loud. " + "e.g. " * (limit // 5),
        "endless titles": "Cars are loud. " + "Mr. " * (limit // 4),
        # `[.!?]+(?:\s|$)` of the scoring features, tried from each mark of a run ending on a letter.
        "a run of full stops ending on a letter": "Cars are loud. " + "." * limit + "a",
        "a run of ?! ending on a letter": "Cars are loud. " + "?!" * (limit // 2) + "a",
        # `_NAMED.*_SECOND_CLAUSE` of a comment sentence ending on "it", from every "your <word>".
        "things named again and again before 'it'": "Add " + "your a " * (limit // 7) + "to it.",
        "transitions without a full stop": "Cars are loud. " + "transitions " * (limit // 12),
    }


HOSTILE = _shapes(ESSAY_LIMIT)
HOSTILE_COMMENTS = _shapes(COMMENT_LIMIT)
