"""A promoted version whose files are gone or moved, and sessions cached for a path whose files
were written again: the scorer raises `NoModel` (the essay waits for the teacher, one clear error
in the log), finds a version again under a moved data dir, and never scores with a graph that
is no longer on disk. Tiny real ONNX graphs (tinymodel.py), no training."""
from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest

from lti_app.extensions import db
from lti_app.models import AiProposal, Assignment, ModelVersion
from tests.worker.ml import tinymodel
from worker.handlers.scoring import score_new_submission
from worker.ml import scorer, versions


@pytest.fixture
def served(make_app):
    """An assignment whose promoted v1 lives in the data dir, and one ungraded essay."""
    app = make_app()
    aid, mv_id, model_dir, (sub,) = tinymodel.served_course(app)
    return SimpleNamespace(app=app, aid=aid, mv_id=mv_id, model_dir=model_dir, sub=sub)


def test_missing_files_mean_no_model_and_one_error_naming_the_path(served, caplog):
    app = served.app
    assert scorer.score_submission(app, served.sub).raw == pytest.approx(3.5)
    shutil.rmtree(served.model_dir)
    caplog.set_level(logging.INFO)
    with pytest.raises(scorer.NoModel, match="missing"):
        scorer.score_submission(app, served.sub)
    job = SimpleNamespace(app=app, payload={"submission_id": served.sub})
    with app.app_context():
        score_new_submission(job)        # acknowledged: the essay waits for the teacher
        assert db.session.scalar(db.select(AiProposal.id)) is None
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1, "one error per version directory, not one per essay"
    assert "event=model_files_missing" in errors[0].getMessage()
    assert str(served.model_dir / "meta.json") in errors[0].getMessage()


def test_a_lost_graph_is_no_model_too(served, caplog):
    os.unlink(served.model_dir / "model.onnx")
    scorer.forget(served.model_dir)
    with pytest.raises(scorer.NoModel, match="model.onnx"):
        scorer.score_submission(served.app, served.sub)


def test_a_version_is_found_again_after_the_data_dir_moved(served, tmp_path):
    app = served.app
    old_root = tmp_path / "old-volume"
    with app.app_context():   # as if written when the data dir was mounted elsewhere
        mv = db.session.get(ModelVersion, served.mv_id)
        stored = old_root / "models" / served.model_dir.parent.name / served.model_dir.name
        mv.path, mv.onnx_path = str(stored), str(stored / "model.onnx")
        db.session.commit()
    assert scorer.score_submission(app, served.sub).raw == pytest.approx(3.5)
    with app.app_context():
        mv = db.session.get(ModelVersion, served.mv_id)
        assert versions.model_dir(app, mv) == served.model_dir
        assert scorer.score(app, ["an essay"], model_version=mv.id)[0].raw == pytest.approx(3.5)
    # rollback accepts it too (its graph is on disk, under the new data dir)
    with app.app_context():
        d2 = tinymodel.make_version(versions.version_dir(app, served.aid, 2), raw=0.1, assignment_id=served.aid)
        v2 = ModelVersion(assignment_id=served.aid, version=2, approach="frozen-ridge", path=str(d2),
                          onnx_path=str(d2 / "model.onnx"), metrics={}, gate={})
        db.session.add(v2)
        db.session.flush()
        versions.promote(db.session.get(Assignment, served.aid), v2)
        db.session.commit()
    assert versions.rollback(app, served.aid).version == 1


def test_a_cached_session_is_not_used_once_its_files_were_written_again(served):
    """Another process (the trainer) deleted v1 and wrote a new v1 at the same path: this
    process's cache must not keep answering with the graph that is gone."""
    first = scorer.score(str(served.model_dir), ["an essay"])[0].raw
    shutil.rmtree(served.model_dir)
    tinymodel.make_version(served.model_dir, raw=0.1, assignment_id=served.aid)
    again = scorer.score(str(served.model_dir), ["an essay"])[0].raw
    assert (first, again) == (pytest.approx(3.5), pytest.approx(1.5))


def test_resolve_dir_keeps_what_it_cannot_find(tmp_path):
    from worker.ml.modelfiles import resolve_dir

    assert resolve_dir("/gone/models/assignment-1/v1", tmp_path) == Path("/gone/models/assignment-1/v1")
    (tmp_path / "models" / "assignment-1" / "v1").mkdir(parents=True)
    assert resolve_dir("/gone/models/assignment-1/v1", tmp_path) == tmp_path / "models" / "assignment-1" / "v1"
    assert resolve_dir("/gone/models/assignment-1/v1", None) == Path("/gone/models/assignment-1/v1")
