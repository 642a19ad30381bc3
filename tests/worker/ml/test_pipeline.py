"""The worker's retrain on a real database: progress, metrics, gate, ONNX, versions, rollback,
and a model that never scores another assignment's essays."""
from __future__ import annotations

import itertools
import random
import shutil
from pathlib import Path

import pytest

from lti_app.extensions import db
from lti_app.models import Assignment, Grade, GradeSource, ModelVersion, Submission, TrainingRun
from tests.worker.coursework import add_essays, make_assignment
from worker.ml import modelfiles, scorer, versions
from worker.ml.cli import model_group, pretrain_command
from worker.ml.pipeline import PARITY_ESSAYS, NotEnoughGrades, parity_indices, train_assignment
from worker.ml.training_set import load_examples

N_GRADED = 100
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def course(tmp_path_factory, shared_data, persuade):
    """An app with one assignment, 100 teacher-graded real essays, a general model pretrained on
    the other prompts, and version 1 trained by the real pipeline."""
    from click.testing import CliRunner

    from lti_app import create_app

    data_dir = tmp_path_factory.mktemp("gl")
    app = create_app(env="test", data_dir=str(data_dir), secret_key="t", database_url=f"sqlite:///{data_dir}/t.db",
                     broker_url="memory://", GRADELOOP_DEVICE="cpu")
    out = CliRunner().invoke(pretrain_command, ["--data", str(shared_data / "persuade"), "--exclude-prompts",
                                                persuade.name, "--per-prompt", "150",
                                                "--out", str(data_dir / "models" / "general")])
    assert out.exit_code == 0, out.output
    assert persuade.name not in out.output.split("prompts ")[1].split(" ")[0].split(",")
    train = persuade.splits["train"]
    order = random.Random(1).sample(range(len(train.texts)), N_GRADED + 10)
    with app.app_context():
        db.create_all()
        a = make_assignment(min_graded=30)
        add_essays(a.id, [(train.texts[i], train.scores[i]) for i in order[:N_GRADED]])
        fresh = add_essays(a.id, [(train.texts[i], None) for i in order[N_GRADED:]])
        assignment_id = a.id
    seen, bar = [], []

    def progress(*args):
        seen.append(args)
        run = db.session.scalar(db.select(TrainingRun).order_by(TrainingRun.id.desc()).limit(1))
        bar.append((run.status, run.phase, run.step / run.total_steps if run.total_steps else 0.0))

    v1 = train_assignment(app, assignment_id, progress=progress)
    yield {"app": app, "assignment_id": assignment_id, "v1": v1, "progress": seen, "bar": bar, "fresh": fresh,
           "fresh_texts": [train.texts[i] for i in order[N_GRADED:]],
           "essays": [(train.texts[i], train.scores[i]) for i in order[:N_GRADED]]}
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_training_set_uses_latest_teacher_grade(course):
    app = course["app"]
    with app.app_context():
        sub_id = db.session.scalars(db.select(Submission.id).where(
            Submission.assignment_id == course["assignment_id"]).order_by(Submission.id)).first()
        db.session.add(Grade(submission_id=sub_id, score=6, source=GradeSource.AI_AUTO, score_min=1, score_max=6))
        db.session.add(Grade(submission_id=sub_id, score=2, source=GradeSource.TEACHER, score_min=1, score_max=4))
        db.session.add(Grade(submission_id=sub_id, score=5, source=GradeSource.AI_AUTO, score_min=1, score_max=6))
        db.session.commit()
        ex = load_examples(course["assignment_id"])
        assert len(ex) == N_GRADED                       # ungraded submissions are not examples
        i = ex.submission_ids.index(sub_id)
        assert ex.scores[i] == 3                         # 2 on 1-4 is 3 on 1-6; AI_AUTO ignored
        db.session.execute(db.delete(Grade).where(Grade.submission_id == sub_id, Grade.score != 2))
        db.session.execute(db.update(Grade).where(Grade.submission_id == sub_id).values(
            score=course["essays"][0][1], score_min=1, score_max=6))
        db.session.commit()


def test_trait_scores_outside_the_current_scale_are_clipped(course):
    """The teacher narrowed a trait from 1-6 to 1-4 after grading: a 6 becomes the new top, 4."""
    with course["app"].app_context():
        a = make_assignment(traits=[{"name": "Evidence", "min": 1, "max": 4}])
        (sub_id,) = add_essays(a.id, [("An essay about phones at school.", None)])
        db.session.add(Grade(submission_id=sub_id, score=5, source=GradeSource.TEACHER, score_min=1, score_max=6,
                             trait_scores={"Evidence": 6, "Gone": 2}))
        db.session.commit()
        ex = load_examples(a.id)
        assert ex.trait_scores == [{"Evidence": 4}] and ex.had_proposal == [False]


def test_first_version_is_trained_gated_and_exported(course):
    app, v1 = course["app"], course["v1"]
    assert v1.version == 1 and v1.status == "promoted", v1.gate
    held = v1.metrics["held_out"]
    assert held["n"] == 20 and held["qwk"] >= 0.70 and abs(held["smd"]) <= 0.15
    assert {"exact", "adjacent", "confusion", "smd"} <= set(held)
    assert v1.metrics["train"]["general_prior"] is True
    meta_v1 = modelfiles.read_meta(v1.path)
    assert meta_v1["general_file"] and (Path(v1.path) / meta_v1["general_file"]).is_file()
    assert v1.onnx_path and v1.onnx_path.startswith(str(versions.version_dir(app, course["assignment_id"], 1)))
    meta = modelfiles.read_meta(v1.path)
    assert meta["assignment_id"] == course["assignment_id"] and meta["parity"]["shipped"] in ("int8", "int8-mixed", "fp32")
    # parity is checked on the held-out essays AND other graded ones, not on 20 essays alone
    assert meta["parity"]["int8"]["n"] == min(PARITY_ESSAYS, N_GRADED) > held["n"]
    assert (versions.version_dir(app, course["assignment_id"], 1) / meta["torch_file"]).is_file()
    with app.app_context():
        run = db.session.scalar(db.select(TrainingRun).where(TrainingRun.model_version_id == v1.id))
        assert run.status == "done" and run.n_examples == N_GRADED and run.finished_at is not None
        assert run.message.startswith("Version 1 passed the promotion gate and is in service (QWK "), run.message
        assert db.session.get(Assignment, course["assignment_id"]).current_model_id == v1.id
    phases = {p[0] for p in course["progress"]}
    assert {"features", "cross-validation", "refit", "export", "done"} <= phases
    assert any(p[3] is not None and p[3] >= 0 for p in course["progress"] if p[0] == "features")


def test_progress_bar_covers_the_whole_run(course):
    """The stored bar (what the dashboard draws) only moves forward, never reads done or full
    while the run is still going (refit and export come after the held-out fit), and reaches
    every stage."""
    fractions = [f for _, _, f in course["bar"]]
    assert fractions == sorted(fractions) and fractions[-1] < 1.0
    assert all(status == "running" and phase != "done" for status, phase, _ in course["bar"])
    assert {"features", "cross-validation", "evaluation", "refit", "export"} <= {p for _, p, _ in course["bar"]}
    assert any(f < 0.3 for f in fractions) and any(f >= 0.8 for f in fractions)
    with course["app"].app_context():
        run = db.session.scalar(db.select(TrainingRun).where(TrainingRun.model_version_id == course["v1"].id))
        assert run.step == run.total_steps and run.phase == "done"


def test_submission_scored_with_its_own_model_only(course):
    app = course["app"]
    pred = scorer.score_submission(app, course["fresh"][0])
    assert 1 <= pred.score <= 6 and 0 <= pred.confidence <= 1
    with app.app_context():
        other = make_assignment()
        (other_sub,) = add_essays(other.id, [("Another course's essay about phones.", None)])
        other.current_model_id = course["v1"].id            # mis-pointed at course 1's model
        db.session.commit()
        other_id = other.id
    with pytest.raises(scorer.ModelMismatch):
        scorer.score_submission(app, other_sub)
    # Files copied under another assignment's version still say whose they are.
    copy = versions.version_dir(app, other_id, 1)
    shutil.copytree(course["v1"].path, copy)
    with app.app_context():
        mv = ModelVersion(assignment_id=other_id, version=1, status="promoted", approach="frozen-ridge",
                          path=str(copy), onnx_path=str(copy / modelfiles.read_meta(copy)["onnx_file"]))
        db.session.add(mv)
        db.session.flush()
        db.session.get(Assignment, other_id).current_model_id = mv.id
        db.session.commit()
    with pytest.raises(scorer.ModelMismatch):
        scorer.score_submission(app, other_sub)


def test_a_version_keeps_its_own_general_model(course, shared_data, base_model):
    """Re-pretraining the operator's general model never changes how a promoted version scores:
    each version scores with the copy it was trained with."""
    from worker.ml.general import pretrain

    app, v1 = course["app"], course["v1"]
    before = [p.raw for p in scorer.score(v1.path, course["fresh_texts"])]
    general_dir = Path(app.config["GRADELOOP_DATA_DIR"]) / "models" / "general"
    pretrain(shared_data / "persuade", base_model, exclude_prompts=["9", "13"], max_per_prompt=20).save(general_dir)
    scorer.forget(v1.path)
    assert [p.raw for p in scorer.score(v1.path, course["fresh_texts"])] == before


def test_gate_refuses_a_worse_model(course):
    """Teacher grades scrambled: the new version must not replace the current one."""
    app, aid = course["app"], course["assignment_id"]
    with app.app_context():
        rng = random.Random(3)
        for grade in db.session.scalars(db.select(Grade).join(Submission).where(Submission.assignment_id == aid)):
            db.session.add(Grade(submission_id=grade.submission_id, score=rng.randint(1, 6),
                                 source=GradeSource.TEACHER, score_min=1, score_max=6))
        db.session.commit()
    v2 = train_assignment(app, aid)
    assert v2.version == 2 and v2.status == "rejected" and v2.onnx_path is None
    assert not v2.gate["promote"] and v2.gate["reasons"]
    # The same essays re-graded: none is new to v1, so it is not scored again on essays it learnt
    # from; the comparison uses its QWK on its own held-out essays (`stored_comparison`).
    assert v2.gate["fair_holdout"] is False and v2.metrics["current_on_held_out"] is None
    assert v2.metrics["current_own_test"]["version"] == 1
    with app.app_context():
        assert db.session.get(Assignment, aid).current_model_id == course["v1"].id
        run = db.session.scalar(db.select(TrainingRun).where(TrainingRun.model_version_id == v2.id))
        assert run.message.startswith("Version 2 did not pass the promotion gate and is not in service: "), run.message
        assert v2.gate["reasons"][0] in run.message


def test_versions_and_rollback(course):
    from worker.ml.export import save_torch  # noqa: F401  (torch side already loaded by training)

    app, aid, v1 = course["app"], course["assignment_id"], course["v1"]
    v3_dir = versions.version_dir(app, aid, 3)
    shutil.copytree(v1.path, v3_dir)
    with app.app_context():
        v3 = ModelVersion(assignment_id=aid, version=3, status="candidate", approach=v1.approach, path=str(v3_dir),
                          onnx_path=str(v3_dir / modelfiles.read_meta(v3_dir)["onnx_file"]), metrics={}, gate={})
        db.session.add(v3)
        db.session.flush()
        versions.promote(db.session.get(Assignment, aid), v3)
        db.session.commit()
    statuses = {mv.version: mv.status for mv in versions.list_versions(app, aid)}
    assert statuses == {1: "retired", 2: "rejected", 3: "promoted"}
    back = versions.rollback(app, aid)
    assert back.version == 1
    with pytest.raises(ValueError, match="no exported model"):
        versions.rollback(app, aid, to_version=2)
    with pytest.raises(ValueError, match="no version 9"):
        versions.rollback(app, aid, to_version=9)
    runner = app.test_cli_runner()
    out = runner.invoke(model_group, ["rollback", "--assignment", str(aid), "--to", "3"])
    assert out.exit_code == 0 and "version 3 is now the current model" in out.output
    out = runner.invoke(model_group, ["list", "--assignment", str(aid)])
    lines = out.output.strip().splitlines()
    assert [ln.split("\t")[:2] for ln in lines] == [["v1", "retired"], ["v2", "rejected"], ["v3", "promoted"]]
    every = runner.invoke(model_group, ["list"]).output.splitlines()   # no id to know first
    heading = next(i for i, ln in enumerate(every) if ln.startswith(f"assignment {aid}: "))
    # other tests in this module add assignments of their own: compare this assignment's block only
    block = list(itertools.takewhile(lambda ln: not ln.startswith("assignment "), every[heading + 1:]))
    assert block == lines
    out = runner.invoke(model_group, ["rollback", "--assignment", str(aid), "--to", "2"])
    assert out.exit_code != 0 and "no exported model" in out.output
    pred = scorer.score_submission(app, course["fresh"][1])
    assert 1 <= pred.score <= 6


def test_not_enough_grades_fails_the_run_cleanly(course):
    app = course["app"]
    with app.app_context():
        a = make_assignment(min_graded=30)
        add_essays(a.id, course["essays"][:12])
        aid = a.id
    with pytest.raises(NotEnoughGrades):
        train_assignment(app, aid)
    with app.app_context():
        run = db.session.scalar(db.select(TrainingRun).where(TrainingRun.assignment_id == aid))
        assert run.status == "failed" and "need 30" in run.message
        assert not db.session.scalar(db.select(ModelVersion).where(ModelVersion.assignment_id == aid))
    assert not versions.version_dir(app, aid, 1).exists()


def test_parity_essays_put_held_out_first_then_fill_up():
    assert parity_indices([7, 2], 10, limit=5) == [7, 2, 0, 1, 3]
    assert parity_indices([1], 3) == [1, 0, 2]
