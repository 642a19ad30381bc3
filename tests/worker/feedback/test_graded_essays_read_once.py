"""The worker reads a course's graded essays once per grading state: feedback for the next essay
scored finds the same state with one small query and reads no essay text again, while a new
grade, a new scale or an erased essay is a new state."""
from __future__ import annotations

import contextlib

import pytest
from sqlalchemy import event

from lti_app.extensions import db
from lti_app.models import Grade, GradeSource, Submission
from tests.coursework.helpers import build_world
from worker.feedback import cache
from worker.feedback.loading import load_graded_examples
from worker.feedback.records import AssignmentView

LONG = "The photos show a mesa with shadows that only look like a face. " * 200


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def world_app(request, make_app):
    """The two-course world on SQLite, and on a scratch PostgreSQL database of its own."""
    url = request.getfixturevalue("scratch_postgres")() if request.param == "postgres" else None
    app = make_app(**({"database_url": url} if url else {}))
    return app, build_world(app)


@contextlib.contextmanager
def statements():
    """The SQL the app runs inside the block."""
    seen = []

    def note(conn, cursor, statement, *args):
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", note)


def _graded(assignment_id: int, n: int, start: int = 0) -> list[int]:
    """n essays without a student, each with a teacher's grade; their ids."""
    ids = []
    for i in range(start, start + n):
        essay = Submission(assignment_id=assignment_id, text=f"Essay {i}. {LONG}")
        db.session.add(essay)
        db.session.flush()
        db.session.add(Grade(submission_id=essay.id, score=1 + i % 6, source=GradeSource.TEACHER,
                             comment=f"Comment on essay {i}.", score_min=1, score_max=6, trait_scores={}))
        ids.append(essay.id)
    db.session.commit()
    return ids


def _reads_texts(sql: list[str]) -> bool:
    return any("submissions.text" in s for s in sql)


def test_the_next_essay_reads_no_graded_text_and_a_new_grade_does(world_app):
    app, w = world_app
    with app.app_context():
        _graded(w.assignment_a, 12)
        with statements() as first_sql:
            first = load_graded_examples(w.assignment_a, exclude_submission_id=w.essay_a)
        assert _reads_texts(first_sql) and len(first) == 12
        db.session.remove()   # the next job's session, as in the worker
        with statements() as again_sql:
            again = load_graded_examples(w.assignment_a, exclude_submission_id=w.essay_a)
        assert not _reads_texts(again_sql), again_sql
        assert not any("essay_text" in s for s in again_sql)
        # The assignment, the grading state (one row) and the roster's names.
        assert len(again_sql) == 3, again_sql
        assert list(again) == list(first) and again.cache_key == first.cache_key
        assert again.names == first.names

        _graded(w.assignment_a, 1, start=12)
        with statements() as new_sql:
            newer = load_graded_examples(w.assignment_a, exclude_submission_id=w.essay_a)
        assert _reads_texts(new_sql) and newer.cache_key != first.cache_key
        assert [e.comment for e in newer][-1] == "Comment on essay 12." and len(newer) == 13


def test_a_new_scale_maps_the_scores_again(world_app):
    from lti_app.models import Assignment

    app, w = world_app
    with app.app_context():
        _graded(w.assignment_a, 3)
        assert [e.score for e in load_graded_examples(w.assignment_a)] == [1.0, 2.0, 3.0]
        db.session.get(Assignment, w.assignment_a).score_max = 11
        db.session.commit()
        assert [e.score for e in load_graded_examples(w.assignment_a)] == [1.0, 3.0, 5.0]


def test_an_erased_essay_is_not_served_from_the_index_cache(make_app):
    """SQLite gives the id of a deleted last row to the next one: after the newest graded essay
    is erased and another is graded, count and last grade id are what they were before, and
    feedback was composed from the cached index that still held the erased essay."""
    app = make_app()
    w = build_world(app)
    with app.app_context():
        essays = _graded(w.assignment_a, 3)
        before = load_graded_examples(w.assignment_a)
        view = AssignmentView.of({"id": w.assignment_a, "prompt": "Discuss.", "score_min": 1, "score_max": 6})
        cache.course_index(before, view)
        erased_grade = db.session.scalar(db.select(Grade.id).where(Grade.submission_id == essays[-1]))
        db.session.execute(db.delete(Grade).where(Grade.submission_id == essays[-1]))
        db.session.execute(db.delete(Submission).where(Submission.id == essays[-1]))
        db.session.commit()
        essay = Submission(assignment_id=w.assignment_a, text="A new essay about landforms.")
        db.session.add(essay)
        db.session.flush()
        db.session.add(Grade(submission_id=essay.id, score=5, source=GradeSource.TEACHER,
                             comment="Clear reasons.", score_min=1, score_max=6, trait_scores={}))
        db.session.commit()
        assert db.session.scalar(db.select(db.func.max(Grade.id))) == erased_grade   # the same id again

        after = load_graded_examples(w.assignment_a)
        assert after.cache_key != before.cache_key
        index = cache.course_index(after, view)
        assert [e.comment for e in index.examples] == [
            "Comment on essay 0.", "Comment on essay 1.", "Clear reasons."]
