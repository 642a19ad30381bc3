"""Anonymous grading (`Assignment.anonymous_grading`): the pages where essays are graded (the
essay list, the grading page, the review queue and its proposals, the dashboard's failed
gradebook updates) name a student's essay by its number instead of its student, and leave out the
uploaded file's name (which often carries the student's), so a grade is not swayed by who wrote
the essay. Students, the LMS gradebook, the course export and the privacy commands still see names:
this hides who wrote what from the grader, it does not remove anything.
"""
from __future__ import annotations

from lti_app.models import Assignment, Submission


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
