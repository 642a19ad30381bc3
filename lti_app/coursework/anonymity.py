"""Anonymous grading (`Assignment.anonymous_grading`): the pages where essays are graded (the
essay list, the grading page, the review queue and its proposals, the dashboard's failed
gradebook updates) name a student's essay by its number instead of its student, and leave out the
uploaded file's name (which often carries the student's), so a grade is not swayed by who wrote
the essay. Students, the LMS gradebook, the course export and the privacy commands still see names:
this hides who wrote what from the grader, it does not remove anything.

Students often sign their essay ("Name: Ada Lovelace", "by ADA LOVELACE"): the essay texts those
pages show read-only have the student's name written as `[student]` (`redactor`). The whole
name in any case; a part of it (3 letters or more) as the LMS spells it, or in capitals, so that
a student named Hope or Will does not blank out "hope" and "will". The stored text is unchanged,
and fields the grader edits are never redacted (a save would store the redaction).
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


def _name_pattern(student: User) -> re.Pattern | None:
    full = " ".join((student.name or "").split())
    parts = {p for p in re.split(r"[\s,]+", full) if len(p) >= 3}
    alternatives = [r"(?i:" + r"\s+".join(map(re.escape, full.split())) + ")"] if full else []
    alternatives += [re.escape(v) for p in sorted(parts, key=len, reverse=True) for v in {p, p.upper()}]
    local = (student.email or "").partition("@")[0]
    if len(local) >= 3:
        alternatives.append(r"(?i:" + re.escape(student.email) + "|" + re.escape(local) + ")")
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
