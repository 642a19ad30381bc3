"""Read a course's graded essays from the database as plain `GradedExample` records.

Only the CURRENT grade of each submission counts (the latest row), and only when it is a
teacher's grade (teacher, import, approved or edited AI proposal): auto-released AI grades
would otherwise feed the model's own words back as the "teacher's voice". Scores graded on an
older scale are mapped linearly onto the assignment's current scale.

Approved and edited AI grades count for their SCORES, but their comments are mostly Gradeloop's
own composed feedback (another essay's measured numbers, trait lines): an AI_APPROVED grade's
comment contributes no sentences, and an AI_EDITED grade's comment keeps only what the teacher
wrote, i.e. every line (or sentence) found verbatim in that submission's approved/edited AI
proposal feedback is dropped (`teacher_part`).

An imported grade (a CSV of last year's export, a course copy) and any grade of an imported essay
(no student here) was written about people who are not on this course's roster, so the roster's
names cannot guard its comment: such examples are marked `outside_roster`, and their sentences
pass the stricter name rule of `comments.reusable_sentences`.
"""
from __future__ import annotations

import re
import threading
from collections import OrderedDict

from sqlalchemy import case, func, select, true

from lti_app.extensions import db
from lti_app.models.coursework import TRAINING_SOURCES as TEACHER_SOURCES
from lti_app.models.course import CourseRole, User
from lti_app.models.coursework import AiProposal, Assignment, Grade, GradeSource, Submission
from worker.feedback.cache import MAX_COURSES
from worker.feedback.records import GradedExample, GradedExamples
from worker.feedback.textstats import split_sentences
from worker.ml.training_set import rescale


_BULLET = re.compile(r"^\s*[-\u2022*]\s+")
_NAME_WORD = re.compile(r"[^\W\d_]+(?:['\u2019-][^\W\d_]+)*")


def _pieces(text: str) -> tuple[set[str], set[str]]:
    """The lines and sentences of composed feedback, whitespace-normalised."""
    lines, sentences = set(), set()
    for line in (text or "").splitlines():
        for variant in (line, _BULLET.sub("", line)):
            norm = " ".join(variant.split())
            if norm:
                lines.add(norm)
                sentences.update(" ".join(s.split()) for s in split_sentences(variant))
    return lines, sentences


def teacher_part(comment: str, proposal_feedback: list[str]) -> str:
    """What the teacher wrote in an edited AI comment: lines (and sentences) of the proposal's
    feedback are dropped, everything else stays verbatim."""
    lines, sentences = set(), set()
    for fb in proposal_feedback:
        more_lines, more_sentences = _pieces(fb)
        lines |= more_lines
        sentences |= more_sentences
    if not lines:
        return comment or ""
    kept = []
    for line in (comment or "").splitlines():
        norm = " ".join(line.split())
        if not norm or norm in lines or " ".join(_BULLET.sub("", line).split()) in lines:
            continue
        own = [s for s in split_sentences(line) if " ".join(s.split()) not in sentences
               and " ".join(_BULLET.sub("", s).split()) not in sentences]
        if own:
            kept.append(" ".join(s.strip() for s in own))
    return "\n".join(kept)


def _comment(grade, proposals: dict[int, list[str]]) -> str:
    source = getattr(grade.source, "value", grade.source)
    if source == GradeSource.AI_APPROVED.value:
        return ""      # the AI's composed text, unchanged: not the teacher's voice
    if source == GradeSource.AI_EDITED.value:
        return teacher_part(grade.comment or "", proposals.get(grade.submission_id, []))
    return grade.comment or ""


def _outside_roster(grade, student_id: int | None) -> bool:
    # Imported essays have no student here; a teacher who regrades one this year may still write
    # about its author, last year's student.
    return student_id is None or getattr(grade.source, "value", grade.source) == GradeSource.IMPORT.value


def grading_state(assignment_id: int, exclude_submission_id: int | None = None) -> tuple:
    """The cache key of the examples `load_graded_examples` would read, from one aggregate over
    the current teacher grades (no essay text is read)."""
    kept = Grade.submission_id != exclude_submission_id if exclude_submission_id is not None else true()
    latest = _latest(assignment_id)
    count, last_id, newest, total = db.session.execute(
        select(func.count(case((kept, Grade.id))), func.max(case((kept, Grade.id))),
               func.max(case((kept, Grade.created_at))), func.count(Grade.id))
        .select_from(Grade).join(latest, Grade.id == latest.c.grade_id)
        .where(Grade.source.in_(TEACHER_SOURCES))).one()
    return _key(assignment_id, count, last_id, newest, exclude_submission_id if total != count else None)


def _key(assignment_id: int, count: int, last_id: int | None, newest, excluded_id: int | None) -> tuple:
    # The newest grade's time as well as its id: SQLite gives a deleted last row's id to the next
    # grade, so after an erasure "count and last id" could come back the same with other essays.
    return (assignment_id, count, last_id or 0, newest) + ((excluded_id,) if excluded_id is not None else ())


def _latest(assignment_id: int):
    """The id of each essay's current (latest) grade."""
    return (select(func.max(Grade.id).label("grade_id"))
            .join(Submission, Submission.id == Grade.submission_id)
            .where(Submission.assignment_id == assignment_id)
            .group_by(Grade.submission_id).subquery())


# The examples read last, per grading state and scale: the worker composes feedback for every
# scored essay (hundreds at a deadline), and reading every graded essay's text each time (up to
# 100 MB and 0.4 s an essay) was wasted while the course's index stayed cached. As many as the
# index cache keeps; the records are the ones the cached indexes hold, not copies.
_read: OrderedDict = OrderedDict()
_read_lock = threading.Lock()


def load_graded_examples(assignment_id: int, *,
                         exclude_submission_id: int | None = None) -> GradedExamples:
    """The assignment's teacher-graded essays, oldest grade first (needs an app context).

    `exclude_submission_id`: leave out the essay being given feedback (a resubmission must not
    be matched against its own earlier comment). The result's `cache_key` is (assignment id,
    number of grades, last grade id, newest grade's time[, excluded id]): what the feedback index
    cache is keyed by. The excluded id joins the key only when that essay had a teacher grade to
    leave out: a new essay (the usual case) has none, and keying on it anyway gave every essay its
    own key, so the worker rebuilt the course's index for each one (~1-3 s at 300 graded essays).
    The key is read first (`grading_state`); the essays' texts only when no recent call read that state.
    """
    assignment = db.session.get(Assignment, assignment_id)
    if assignment is None:
        raise LookupError(f"no assignment with id {assignment_id}")
    key = grading_state(assignment_id, exclude_submission_id)
    scale = (assignment.score_min, assignment.score_max)   # the scores are mapped onto it
    with _read_lock:
        examples = _read.get((key, scale))
        if examples is not None:
            _read.move_to_end((key, scale))
    if examples is None:
        # Keyed by what was read: a grade given between the two statements is in the rows.
        key, examples = _read_examples(assignment, exclude_submission_id)
        with _read_lock:
            _read[(key, scale)] = examples
            while len(_read) > MAX_COURSES:
                _read.popitem(last=False)
    return GradedExamples(examples, cache_key=key, names=course_names(assignment.course_id))


def _read_examples(assignment: Assignment, exclude_submission_id: int | None) -> tuple[tuple, tuple]:
    """(cache key, examples) from the grade rows and essay texts themselves."""
    latest = _latest(assignment.id)
    # The time as stored (not an unsaved object's own value): the key must equal `grading_state`'s.
    query = (select(Grade, Submission.text, Submission.user_id, Grade.created_at)
             .join(latest, Grade.id == latest.c.grade_id)
             .join(Submission, Submission.id == Grade.submission_id)
             .where(Grade.source.in_(TEACHER_SOURCES)))
    rows = db.session.execute(query.order_by(Grade.id)).all()
    kept = [row for row in rows if row[0].submission_id != exclude_submission_id]
    excluded = len(kept) != len(rows)
    rows = kept
    edited = {g.submission_id for g, _, _, _ in rows
               if getattr(g.source, "value", g.source) == GradeSource.AI_EDITED.value}
    proposals: dict[int, list[str]] = {}
    if edited:
        found = db.session.execute(
            select(AiProposal.submission_id, AiProposal.feedback)
            .where(AiProposal.submission_id.in_(edited),
                   # "released": a teacher who corrected only the score of an auto-released
                   # grade saves it as AI_EDITED with the AI's words (coursework.grading).
                   AiProposal.status.in_(("edited", "approved", "released")))).all()
        for sub_id, feedback in found:
            proposals.setdefault(sub_id, []).append(feedback or "")
    # A returned essay's grade belongs with the version it was given on, not the revision.
    examples = tuple(GradedExample(text=(text if g.essay_text is None else g.essay_text) or "",
                                   score=rescale(g.score, g.score_min, g.score_max,
                                                 assignment.score_min, assignment.score_max),
                                   trait_scores=dict(g.trait_scores or {}), comment=_comment(g, proposals),
                                   outside_roster=_outside_roster(g, student))
                     for g, text, student, _ in rows)
    key = _key(assignment.id, len(rows), rows[-1][0].id if rows else None,
               max((at for *_, at in rows), default=None), exclude_submission_id if excluded else None)
    return key, examples


def course_names(course_id: int) -> frozenset[str]:
    """The words of the names of the course's people, lower case. A teacher's comment may name
    its student with a word the name guard takes for an ordinary one ("Mark needs ...", "Will
    should ..."): reused on another essay, that would show one student's name to another."""
    found = db.session.scalars(select(User.name).join(CourseRole, CourseRole.user_id == User.id)
                               .where(CourseRole.course_id == course_id)).all()
    words = set()
    for name in found:
        for word in _NAME_WORD.findall(name or ""):   # "O'Neil-Smith": the whole and its parts
            words.update(w for w in (word, *re.split(r"['\u2019-]", word)) if len(w) >= 2)
    return frozenset(w.lower() for w in words)
