"""Loading graded essays from the database, and the per-course index cache."""
from __future__ import annotations

import pytest

from worker.feedback import cache
from worker.feedback.compose import compose_feedback
from worker.feedback.records import GradedExample, GradedExamples
from tests.scratch_postgres import drop_database


def _course(db):
    from lti_app.models.course import Course
    from lti_app.models.coursework import Assignment
    from lti_app.models.platform import Platform

    platform = Platform(issuer="https://lms.test", client_id="c1",
                        auth_login_url="https://lms.test/auth", auth_token_url="https://lms.test/token",
                        key_set_url="https://lms.test/jwks")
    db.session.add(platform)
    db.session.flush()
    course = Course(platform_id=platform.id, context_id="ctx-1")
    db.session.add(course)
    db.session.flush()
    assignment = Assignment(course_id=course.id, title="Face on Mars", prompt="Read the article.",
                            score_min=1, score_max=6, traits=[])
    db.session.add(assignment)
    db.session.flush()
    return assignment


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_app(request, make_app):
    """The app on SQLite, and on a scratch PostgreSQL database of its own."""
    if request.param == "sqlite":
        yield make_app()
        return
    import uuid

    import sqlalchemy as sa

    base = request.getfixturevalue("postgres_url")
    name = f"gl_feedback_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_app(database_url=base.rsplit("/", 1)[0] + "/" + name)
    finally:
        drop_database(admin, name)
        admin.dispose()


def test_load_graded_examples_keeps_current_teacher_grades(db_app):
    app = db_app
    from lti_app.extensions import db
    from lti_app.models.coursework import Grade, GradeSource, Submission
    from worker.feedback.loading import load_graded_examples

    with app.app_context():
        a = _course(db)
        subs = [Submission(assignment_id=a.id, text=f"Essay number {i}.") for i in range(5)]
        db.session.add_all(subs)
        db.session.flush()

        def grade(sub, score, source, comment="", lo=1, hi=6, traits=None):
            db.session.add(Grade(submission_id=sub.id, score=score, source=source, comment=comment,
                                 score_min=lo, score_max=hi, trait_scores=traits or {}))
            db.session.flush()

        grade(subs[0], 2, GradeSource.TEACHER, "First look.")
        grade(subs[0], 3, GradeSource.AI_EDITED, "Regraded after revision.", traits={"evidence": 2})
        grade(subs[1], 4, GradeSource.IMPORT, "Imported comment.")
        grade(subs[2], 5, GradeSource.AI_AUTO, "Machine feedback.")      # not the teacher's voice
        grade(subs[3], 4, GradeSource.TEACHER, "Old teacher grade.")
        grade(subs[3], 2, GradeSource.AI_AUTO, "Auto grade superseding it.")
        grade(subs[4], 3, GradeSource.TEACHER, "Graded out of four.", lo=0, hi=4)
        db.session.commit()

        examples = load_graded_examples(a.id)
        assert [(e.text, e.score, e.comment) for e in examples] == [
            ("Essay number 0.", 3.0, "Regraded after revision."),
            ("Essay number 1.", 4.0, "Imported comment."),
            ("Essay number 4.", 4.75, "Graded out of four."),       # 3/4 mapped onto 1..6
        ]
        assert examples[0].trait_scores == {"evidence": 2}
        last = db.session.query(db.func.max(Grade.id)).scalar()
        last_at = db.session.get(Grade, last).created_at
        assert examples.cache_key == (a.id, 3, last, last_at)      # the score-out-of-four grade is last
        # the ORM row itself is a valid `assignment` argument
        a.traits = [{"name": "evidence", "min": 1, "max": 4}]
        fb = compose_feedback("The essay number five is about the mesa on Mars and nothing else "
                              "at all, because the photos show a natural landform with shadows "
                              "that look like a face to people on Earth.", 3, {"evidence": 2},
                              a, examples)
        assert fb.kinds()[-1] == "trait" and "Evidence: 2 of 4" in fb.text
        without = load_graded_examples(a.id, exclude_submission_id=subs[1].id)
        assert [e.text for e in without] == ["Essay number 0.", "Essay number 4."]
        assert without.cache_key == (a.id, 2, last, last_at, subs[1].id)
        # New, ungraded essays leave nothing out: they share the course's key (and its cached index)
        new = [Submission(assignment_id=a.id, text=f"New essay {i}.") for i in range(2)]
        db.session.add_all(new)
        db.session.flush()
        keys = {load_graded_examples(a.id, exclude_submission_id=s.id).cache_key for s in new + [subs[2]]}
        assert keys == {examples.cache_key}   # subs[2]'s only grade is an auto-released one
        with pytest.raises(LookupError):
            load_graded_examples(a.id + 99)


def test_index_is_cached_per_course_state(course, held_out, assignment):
    cache.clear()
    builds = cache.stats["builds"]
    text, score = held_out[0]
    first = compose_feedback(text, score, {}, assignment, course)
    again = compose_feedback(text, score, {}, assignment, course)
    assert first == again and cache.stats["builds"] == builds + 1       # second call hit the cache
    changed = list(course) + [GradedExample(text, score, {}, "Your claim needs one more reason "
                                            "from the article.")]
    compose_feedback(text, score, {}, assignment, changed)
    assert cache.stats["builds"] == builds + 2                         # a new grade: new index
    keyed = GradedExamples(course, cache_key=(assignment["id"], len(course), 999))
    compose_feedback(text, score, {}, assignment, keyed)
    compose_feedback(text, score, {}, assignment, keyed)
    assert cache.stats["builds"] == builds + 3
    # A student who joins the course: the same grades, but comment sentences naming them must be
    # guarded from now on, so the index that did not know the name is not served.
    joined = GradedExamples(course, cache_key=(assignment["id"], len(course), 999), names=frozenset({"grace"}))
    compose_feedback(text, score, {}, assignment, joined)
    assert cache.stats["builds"] == builds + 4
    compose_feedback(text, score, {}, assignment, joined)
    assert cache.stats["builds"] == builds + 4


def test_embeddings_replace_tfidf_similarity(course, held_out, assignment):
    import numpy as np

    rng = np.random.default_rng(0)
    emb = rng.normal(size=(len(course), 16))
    target = next(i for i, ex in enumerate(course) if ex.score == 3)
    text, _ = held_out[0]
    fb = compose_feedback(text, 3, {}, {**assignment, "id": 501}, course,
                          essay_embedding=emb[target] * 2.0, example_embeddings=emb)
    top = next(p for p in fb.parts if p["kind"] == "teacher")
    assert top["evidence"]["example"] == target and top["evidence"]["similarity"] == pytest.approx(1.0)
    with pytest.raises(ValueError, match="one row per graded example"):
        compose_feedback(text, 3, {}, {**assignment, "id": 502}, course,
                         essay_embedding=emb[0], example_embeddings=emb[:5])


def test_approved_ai_feedback_is_not_the_teachers_voice(db_app):
    """AI_APPROVED comments give no sentences; AI_EDITED ones keep only the teacher's own lines."""
    app = db_app
    from lti_app.extensions import db
    from lti_app.models.coursework import AiProposal, Grade, GradeSource, Submission
    from worker.feedback.loading import load_graded_examples

    proposal_text = ("You state a clear claim and give some evidence from the article.\n\n"
                     "- 13 words look misspelled: becuase, thier, alot, wich, dont, sayed and 7 more.\n"
                     "- Sentences: 2 sentences run over 40 words (the longest has 63).\n\n"
                     "Organization (2 of 4): Your paragraphs need topic sentences.\n"
                     "Evidence: 2 of 4 (the course's 300 graded essays: median 2, 40% scored higher).")
    with app.app_context():
        a = _course(db)
        subs = [Submission(assignment_id=a.id, text=f"Essay number {i}.") for i in range(3)]
        db.session.add_all(subs)
        db.session.flush()
        for sub, status in ((subs[0], "approved"), (subs[1], "edited")):
            db.session.add(AiProposal(submission_id=sub.id, score=3, trait_scores={}, confidence=0.8,
                                      feedback=proposal_text, status=status))
        db.session.add(Grade(submission_id=subs[0].id, score=3, source=GradeSource.AI_APPROVED,
                             comment=proposal_text, score_min=1, score_max=6, trait_scores={}))
        edited = ("You state a clear claim and give some evidence from the article. "
                  "Read your conclusion aloud before you hand it in.\n\n"
                  + proposal_text.split("\n\n", 1)[1]
                  + "\nCome find me if the counterclaim part is unclear.")
        db.session.add(Grade(submission_id=subs[1].id, score=4, source=GradeSource.AI_EDITED,
                             comment=edited, score_min=1, score_max=6, trait_scores={}))
        db.session.add(Grade(submission_id=subs[2].id, score=2, source=GradeSource.TEACHER,
                             comment="Plan the order of your reasons first.", score_min=1,
                             score_max=6, trait_scores={}))
        db.session.commit()

        examples = load_graded_examples(a.id)
        assert [(e.text, e.score) for e in examples] == [
            ("Essay number 0.", 3.0), ("Essay number 1.", 4.0), ("Essay number 2.", 2.0)]
        assert examples[0].comment == ""                     # approved unchanged: scores only
        assert examples[1].comment == ("Read your conclusion aloud before you hand it in.\n"
                                       "Come find me if the counterclaim part is unclear.")
        assert examples[2].comment == "Plan the order of your reasons first."


def test_the_index_never_reuses_a_sentence_naming_a_course_member(db_app):
    """The loaded examples carry the words of the course's people's names, and the course index
    drops a comment sentence that names one of them with an ordinary word ("Mark needs ...")."""
    app = db_app
    from lti_app.extensions import db
    from lti_app.models.course import CourseRole, Role, User
    from lti_app.models.coursework import Grade, GradeSource, Submission
    from worker.feedback.loading import load_graded_examples
    from worker.feedback.retrieval import CourseIndex

    with app.app_context():
        a = _course(db)
        for sub, name in (("s1", "Mark Lee"), ("s2", "O'Neil-Smith, Ana")):
            user = User(platform_id=1, sub=sub, name=name)
            db.session.add(user)
            db.session.flush()
            db.session.add(CourseRole(course_id=a.course_id, user_id=user.id, role=Role.LEARNER))
        essay = Submission(assignment_id=a.id, text="The face on Mars is a mesa, as the photos show.")
        db.session.add(essay)
        db.session.flush()
        db.session.add(Grade(submission_id=essay.id, score=3, source=GradeSource.TEACHER, score_min=1,
                             score_max=6, comment="Mark needs more evidence from the article. "
                                                  "Explain how each detail supports your claim."))
        db.session.commit()
        examples = load_graded_examples(a.id)
        assert examples.names == {"mark", "lee", "ana", "o'neil-smith", "neil", "smith"}
        reused = [c.text for c in CourseIndex(examples, a).candidates]
        assert reused == ["Explain how each detail supports your claim."]
