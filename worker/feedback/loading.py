"""Read a course's graded essays from the database as plain `GradedExample` records.

Only the CURRENT grade of each submission counts (the latest row), and only when it is a
teacher's grade (teacher, import, approved or edited AI proposal): auto-released AI grades
would otherwise feed the model's own words back as the "teacher's voice". Scores graded on an
older scale are mapped linearly onto the assignment's current scale.
"""
from __future__ import annotations

from sqlalchemy import func, select

from lti_app.extensions import db
from lti_app.models.coursework import TRAINING_SOURCES as TEACHER_SOURCES
from lti_app.models.coursework import Assignment, Grade, Submission
from worker.feedback.records import GradedExample, GradedExamples
from worker.ml.training_set import rescale


def load_graded_examples(assignment_id: int, *,
                         exclude_submission_id: int | None = None) -> GradedExamples:
    """The assignment's teacher-graded essays, oldest grade first (needs an app context).

    `exclude_submission_id`: leave out the essay being given feedback (a resubmission must not
    be matched against its own earlier comment). The result's `cache_key` is (assignment id,
    number of grades, last grade id[, excluded id]): what the feedback index cache is keyed by.
    The excluded id joins the key only when that essay had a teacher grade to leave out: a new
    essay (the usual case) has none, and keying on it anyway gave every essay its own key, so
    the worker rebuilt the course's index for each one (~1-3 s at 300 graded essays).
    """
    assignment = db.session.get(Assignment, assignment_id)
    if assignment is None:
        raise LookupError(f"no assignment with id {assignment_id}")
    latest = (select(func.max(Grade.id).label("grade_id"))
              .join(Submission, Submission.id == Grade.submission_id)
              .where(Submission.assignment_id == assignment_id)
              .group_by(Grade.submission_id).subquery())
    query = (select(Grade, Submission.text)
             .join(latest, Grade.id == latest.c.grade_id)
             .join(Submission, Submission.id == Grade.submission_id)
             .where(Grade.source.in_(TEACHER_SOURCES)))
    rows = db.session.execute(query.order_by(Grade.id)).all()
    kept = [row for row in rows if row[0].submission_id != exclude_submission_id]
    excluded = len(kept) != len(rows)
    rows = kept
    examples = [GradedExample(text=text or "",
                              score=rescale(g.score, g.score_min, g.score_max,
                                             assignment.score_min, assignment.score_max),
                              trait_scores=dict(g.trait_scores or {}), comment=g.comment or "")
                for g, text in rows]
    last_id = rows[-1][0].id if rows else 0
    key = (assignment_id, len(examples), last_id)
    return GradedExamples(examples, cache_key=key + ((exclude_submission_id,) if excluded else ()))
