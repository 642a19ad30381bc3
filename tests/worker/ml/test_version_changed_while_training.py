"""What a run that passed its gate does when the version in service changed while it trained: a
teacher's rollback to a version that never saw erased essays stands even in an erasure run (only a
model that still holds erased essays must go whatever happens), and when the versions were dropped
meanwhile (nothing serves) the run's version is put in service, since there is no choice to respect.
Training is faked (test_pipeline_guards.FakeTraining); hooks run in the run's own session (SQLite:
one writer), as a teacher's commit would land."""
from __future__ import annotations

from lti_app.extensions import db
from lti_app.models import Assignment, ModelVersion, Submission, TrainingRun, User
from tests.worker.coursework import add_graded
from tests.worker.ml.test_pipeline_guards import FakeTraining, course, fake  # noqa: F401  fixtures
from worker.ml import pipeline, versions


def test_a_rollback_to_a_clean_version_during_an_erasure_run_stands(course, fake):
    app, aid = course.app, course.aid
    assert pipeline.train_assignment(app, aid).status == "promoted"          # v1: 20 essays
    with app.app_context():
        late = add_graded(db.session.get(Assignment, aid), 1)[0]
        late_user = db.session.get(Submission, late.submission_id).user_id
    fake.new_qwk = 0.95
    assert pipeline.train_assignment(app, aid).status == "promoted"          # v2 learnt the late essay
    with app.app_context():
        from lti_app.erasure import erase_user
        erase_user(db.session.get(User, late_user))                           # v2 now holds erased data

    def teacher_rolls_back(*_):
        a = db.session.get(Assignment, aid)
        versions.promote(a, db.session.scalar(db.select(ModelVersion).filter_by(assignment_id=aid, version=1)))
        db.session.commit()
    fake.on["retrain"] = teacher_rolls_back
    fake.new_qwk = 0.72
    v3 = pipeline.train_assignment(app, aid, reason="erasure")
    with app.app_context():
        a = db.session.get(Assignment, aid)
        statuses = {mv.version: mv.status for mv in db.session.scalars(
            db.select(ModelVersion).where(ModelVersion.assignment_id == aid))}
        run = db.session.scalar(db.select(TrainingRun).order_by(TrainingRun.id.desc()).limit(1))
        assert db.session.get(ModelVersion, a.current_model_id).version == 1, "the teacher's rollback stands"
    assert v3.status == "rejected" and statuses == {1: "promoted", 2: "retired", 3: "rejected"}
    # Stored as decided (the JSON column missed the change made in place, and kept `promote` True).
    assert v3.gate["promote"] is False and v3.gate["kept_out"] == {"why": "chosen_meanwhile", "serving_version": 1}
    assert "version 1 was put in service while it trained" in run.message
    assert "new essays wait for you" not in run.message, "version 1 scores them"


def test_when_the_versions_were_dropped_meanwhile_the_new_one_is_put_in_service(course, fake):
    app, aid = course.app, course.aid
    assert pipeline.train_assignment(app, aid).status == "promoted"

    def drop(*_):
        from lti_app.coursework.data_admin import delete_model_versions
        delete_model_versions([aid])
        db.session.commit()
    fake.on["retrain"] = drop
    v2 = pipeline.train_assignment(app, aid)
    with app.app_context():
        run = db.session.scalar(db.select(TrainingRun).order_by(TrainingRun.id.desc()).limit(1))
        assert db.session.get(Assignment, aid).current_model_id == v2.id
    assert v2.status == "promoted" and "another version" not in run.message
