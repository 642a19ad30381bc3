"""Storing previously graded essays (CSV import, course copy, the demo) as anonymous graded essays,
matched against what the assignment already holds, and removing them again.

A teacher who uploads the same file twice (a double click, or "did it work?") or a corrected
version of it must not get every essay twice: duplicates count twice in training and in the
held-out quality figures. An essay is matched by its normalised text: an imported one whose
score, trait scores, comment or group changed gets a new grade (its history is kept); an
identical one is left alone; a student's own hand-in with the same text is never regraded from a
file. Nor is an essay whose latest grade was given in Gradeloop after its import (the teacher's
correction on the grading page, an approved or edited AI grade): a teacher who appends this
term's rows to last year's file and uploads it again must not get last year's scores back.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from lti_app.coursework.csv_io import ImportRows
from lti_app.coursework.essay_text import normalise, word_count
from lti_app.events import record_event
from lti_app.extensions import db
from lti_app.locking import for_update
from lti_app.lms.gradebook import latest_grade
from lti_app.models import Assignment, Grade, GradeSource, Submission, SubmissionStatus


@dataclass
class Imported:
    added: int = 0
    updated: int = 0
    unchanged: int = 0   # already here with the same grade, repeated in the file, or a student's own essay
    # Imported essays regraded in Gradeloop since: a set, so a line repeated in the file counts once.
    kept: set[int] = field(default_factory=set)
    # Spreadsheet rows of a CSV skipped as not graded: named, so the teacher sees what was left out.
    unscored: list[int] = field(default_factory=list)

    @property
    def changed(self) -> int:
        return self.added + self.updated

    def summary(self) -> str:
        words = [f"Imported {self.added} graded essay{'s' if self.added != 1 else ''}."]
        if self.updated:
            words.append(f"{self.updated} already imported essay{'s' if self.updated != 1 else ''} took the "
                         "new score or comment from the file.")
        if self.kept:
            one = len(self.kept) == 1
            words.append(f"{len(self.kept)} essay{'' if one else 's'} kept the grade given in Gradeloop after the "
                         f"last import; edit {'it on its' if one else 'them on their'} grading page.")
        if self.unchanged:
            words.append(f"{self.unchanged} line{'s were' if self.unchanged != 1 else ' was'} already in this "
                         "assignment and left unchanged.")
        if self.unscored:
            one = len(self.unscored) == 1
            words.append(f"Skipped {len(self.unscored)} row{'' if one else 's'} without a score "
                         f"({_row_numbers(self.unscored)}): essays not graded yet are not training data.")
        return " ".join(words)


def _row_numbers(rows: list[int], shown: int = 20) -> str:
    """The words "rows 2, 5 and 9", or the first `shown` and how many more: a notice, not a report."""
    if len(rows) == 1:
        return f"row {rows[0]}"
    if len(rows) > shown:
        return f"rows {', '.join(map(str, rows[:shown]))} and {len(rows) - shown} more"
    return f"rows {', '.join(map(str, rows[:-1]))} and {rows[-1]}"


def _same_grade(grade: Grade | None, submission: Submission, row: dict) -> bool:
    return (grade is not None and float(grade.score) == float(row["score"])
            and (grade.trait_scores or {}) == (row.get("trait_scores") or {})
            and (grade.comment or "") == (row.get("comment") or "")
            and (submission.group_label or None) == (row.get("group") or None))


def _left_as_is(result: Imported, submission: Submission | None, row: dict) -> bool:
    """Whether the row must not regrade the essay it matched (counted in `result` if so)."""
    if submission is None:
        return False
    if submission.user_id is not None:   # a student's own essay is never regraded from a file
        result.unchanged += 1
        return True
    current = latest_grade(submission.id)
    if _same_grade(current, submission, row):
        result.unchanged += 1
        return True
    # Only the file's own earlier import may be replaced by a changed row. A grade given here since
    # (the teacher's, an approved or edited AI one) is newer than the file's line, which was
    # written before it: last year's file uploaded again must not bring last year's score back.
    if current is not None and current.source != GradeSource.IMPORT:
        result.kept.add(submission.id)
        return True
    return False


def import_rows(assignment: Assignment, rows: list[dict], grader_id: int | None,
                reason: str = "import") -> Imported:
    """Store the rows as graded essays, matched against the assignment's essays (caller commits;
    one transaction for the whole file). One `training.due` event when anything changed.
    Imports into one assignment take turns (its row locked): two uploads of a file at once would
    both have found its essays missing and added each of them twice."""
    db.session.execute(for_update(db.select(Assignment.id).where(Assignment.id == assignment.id), key_share=True))
    held = {s.text: s for s in db.session.scalars(db.select(Submission).filter_by(assignment_id=assignment.id))}
    # A revised essay's graded earlier version (an export carries it as its own row) is the
    # student's too: re-importing that row must not add it again as an anonymous essay.
    for submission, earlier in db.session.execute(
            db.select(Submission, Grade.essay_text).join(Grade, Grade.submission_id == Submission.id)
            .where(Submission.assignment_id == assignment.id, Grade.essay_text.is_not(None))):
        held.setdefault(earlier, submission)
    # A CSV's rows say which essays were skipped as not graded; a course copy's or the demo's are a plain list.
    result = Imported(unscored=rows.unscored if isinstance(rows, ImportRows) else [])
    for row in rows:
        text = normalise(row["text"])
        submission = held.get(text)
        if _left_as_is(result, submission, row):
            continue
        if submission is None:
            submission = Submission(assignment_id=assignment.id, user_id=None, text=text, word_count=word_count(text),
                                    status=SubmissionStatus.GRADED, filename=None)
            db.session.add(submission)
            held[text] = submission
            result.added += 1
        else:
            result.updated += 1
        submission.group_label = row.get("group")
        db.session.flush()
        db.session.add(Grade(submission_id=submission.id, score=row["score"], trait_scores=row["trait_scores"],
                             comment=row["comment"], grader_id=grader_id, source=GradeSource.IMPORT,
                             score_min=assignment.score_min, score_max=assignment.score_max))
        db.session.flush()   # the next row's latest_grade must see this one (a line repeated in the file)
    if result.changed:
        # One event for the batch: a per-row grade.created would flood the training queue.
        record_event("training.due", {"assignment_id": assignment.id, "reason": reason})
    return result


def imported_essays(assignment_id: int):
    """A select of the assignment's imported essays (no student: CSV imports and course copies)."""
    return db.select(Submission.id).where(Submission.assignment_id == assignment_id, Submission.user_id.is_(None))


def count_imported(assignment_id: int) -> int:
    return db.session.scalar(db.select(db.func.count()).select_from(imported_essays(assignment_id).subquery()))
