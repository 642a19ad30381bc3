"""Anonymous grading (`Assignment.anonymous_grading`): the pages where essays are graded (the
essay list, the grading page, the review queue and its proposals, the dashboard's failed
gradebook updates) name a student's essay by its number instead of its student, and leave out the
uploaded file's name (which often carries the student's), so a grade is not swayed by who wrote
the essay. Students, the LMS gradebook, an instructor's course export and the privacy commands still
see names (a TA's export leaves them out and redacts texts as below, `data_admin.export_records`):
this hides who wrote what from the grader, it does not remove anything.

Students often sign their essay ("Name: Ada Lovelace", "by ADA LOVELACE"): the essay texts those
pages show read-only have the student's name written as `[student]` (`redactor`). A name of two
words or more in any case (either order when the LMS lists it "Lovelace, Ada"); a part of it
(3 letters or more) only as the LMS spells it or in capitals, so that a student named Hope or Will
does not blank out "hope" and "will"; the e-mail address, and its local part when that is not a
plain word. Any apostrophe or dash matches any other. The stored text is unchanged, and fields
the grader edits are never redacted (a save would store the redaction).
"""
from __future__ import annotations

import re
from typing import Callable

from lti_app.models import Assignment, Submission, User

REDACTED = "[student]"


def essay_label(submission: Submission) -> str:
    return f"Essay #{submission.id}"


def hides_names(assignment: Assignment) -> bool:
    return bool(assignment.anonymous_grading)


def shown_name(assignment: Assignment, submission: Submission, name: str) -> str:
    """`name`, or the essay's number when the assignment hides names (imported essays have none)."""
    return essay_label(submission) if hides_names(assignment) and submission.user_id is not None else name


def mask_rows(assignment: Assignment, rows: list) -> list:
    """The essay list's rows (`roster.Row`) with names and e-mails hidden when the assignment says so.
    A student who has not handed in is listed without a name too: with a class list beside the
    essays, elimination would name the last few essays."""
    if not hides_names(assignment):
        return rows
    for row in rows:
        row.name = essay_label(row.submission) if row.submission is not None else "Not handed in yet"
        row.email = ""
    return rows


APOSTROPHES, DASHES = "'’ʼ`", "-‐‑–"


def _flexible(text: str) -> str:
    """A regex for `text` that accepts any apostrophe for an apostrophe and any dash for a dash
    (the LMS says O'Brien, the essay O’Brien) and any whitespace for whitespace."""
    out = []
    for char in text:
        if char in APOSTROPHES:
            out.append(f"[{APOSTROPHES}]")
        elif char in DASHES:
            out.append(f"[{DASHES}]")
        elif char.isspace():
            out.append(r"\s+")
        else:
            out.append(re.escape(char))
    return "".join(out)


def _name_pattern(student: User) -> re.Pattern | None:
    name = " ".join((student.name or "").split())
    words = [w for w in re.split(r"[\s,]+", name) if w]
    fulls = [" ".join(words)] if len(words) >= 2 else []
    if "," in name and len(words) >= 2:   # "Lovelace, Ada" as the LMS lists it, "Ada Lovelace" in the essay
        fulls.append(" ".join(words[1:] + words[:1]))
    parts = {p for w in words for p in [w, *re.split(f"[{DASHES}]", w)] if len(p) >= 3}
    # A whole name of two words or more in any case; a single word only as spelt or in capitals,
    # so that a student named Hope or Will does not blank out "hope" and "will".
    alternatives = [f"(?i:{_flexible(f)})" for f in fulls]
    alternatives += [_flexible(v) for p in sorted(parts, key=len, reverse=True) for v in dict.fromkeys((p, p.upper()))]
    email = (student.email or "").strip()
    if "@" in email:
        alternatives.append(f"(?i:{re.escape(email)})")
        local = email.partition("@")[0]
        if len(local) >= 3 and not local.isalpha():   # "ada.lovelace", "alovelace7"; not "hope"
            alternatives.append(f"(?i:{re.escape(local)})")
    if not alternatives:
        return None
    return re.compile(r"(?<!\w)(?:" + "|".join(alternatives) + r")(?!\w)")


def redactor(assignment: Assignment, student: User | None) -> Callable[[str | None], str]:
    """A function giving back an essay text (or a comment) to show a grader: with the student's
    name written as `[student]` when the assignment hides names, else unchanged."""
    pattern = _name_pattern(student) if student is not None and hides_names(assignment) else None
    if pattern is None:
        return lambda text: text or ""
    return lambda text: pattern.sub(REDACTED, text or "")
