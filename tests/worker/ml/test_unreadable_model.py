"""A version in service whose files are there but cannot be read (cut short by a power loss before
they reached the disk, a bad restore): it never blocks the retrain that would replace it, its new
essays wait for the teacher instead of being retried into dead letters, the operator reads one
error naming the file, and the dashboard tells the teacher why essays wait. Tiny real ONNX graphs
(tinymodel.py) and the faked training of test_pipeline_guards.py: each case takes a second."""
from __future__ import annotations

import logging
import pathlib
import re
from types import SimpleNamespace

import pytest

from lti_app.extensions import db
from lti_app.models import AiProposal, Assignment, ModelVersion, Submission
from tests.e2e.test_review_and_dashboard import _teacher, world  # noqa: F401  (world: a fixture)
from tests.worker.ml import tinymodel
from tests.worker.ml.test_pipeline_guards import _erase_one, _state, course, fake  # noqa: F401  fixtures
from worker.handlers.scoring import score_new_submission
from worker.ml import modelfiles, pipeline, scorer


def _truncate(path: pathlib.Path, keep: int = 40) -> None:
    path.write_bytes(path.read_bytes()[:keep])


DAMAGE = {
    "meta.json cut short": lambda d: (d / modelfiles.META).write_text('{"approach": "frozen-ri'),
    "meta.json zeroed": lambda d: (d / modelfiles.META).write_bytes(b"\0" * 64),   # what a crash can leave
    "graph cut short": lambda d: _truncate(d / modelfiles.ONNX_FP32),
    "tokenizer cut short": lambda d: _truncate(d / modelfiles.TOKENIZER, 200),
}
DAMAGED_FILE = {"meta.json cut short": modelfiles.META, "meta.json zeroed": modelfiles.META,
                "graph cut short": modelfiles.ONNX_FP32, "tokenizer cut short": modelfiles.TOKENIZER}


def _current_dir(app, aid) -> pathlib.Path:
    from worker.ml import versions

    with app.app_context():
        a = db.session.get(Assignment, aid)
        return versions.model_dir(app, db.session.get(ModelVersion, a.current_model_id))


# -- the retrain ----------------------------------------------------------------------------------

@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_a_damaged_model_in_service_does_not_block_the_retrain_that_replaces_it(course, fake, damage):
    app, aid = course.app, course.aid
    assert pipeline.train_assignment(app, aid).status == "promoted"
    DAMAGE[damage](_current_dir(app, aid))
    scorer.forget(_current_dir(app, aid))
    fake.new_qwk = 0.75     # valid; nothing to compare with, since v1 cannot be read
    v2 = pipeline.train_assignment(app, aid, reason="manual")
    assert v2.status == "promoted", v2.gate
    assert any(r.startswith("current model v1 could not") for r in v2.gate["reasons"]), v2.gate["reasons"]
    state = _state(app, aid)
    assert state.current == 2 and state.versions == {1: "retired", 2: "promoted"} and state.run_status == "done"


def test_an_erasure_retrain_replaces_a_model_whose_files_cannot_be_read(course, fake, monkeypatch):
    """Not knowing what an unreadable model learnt from counts as "trained on erased essays". The
    error is one a root test process cannot meet for real (permission denied), hence the patch."""
    app, aid = course.app, course.aid
    pipeline.train_assignment(app, aid)
    _erase_one(app, aid)
    meta = _current_dir(app, aid) / modelfiles.META
    real_read = pathlib.Path.read_text

    def read_text(self, *args, **kwargs):
        if self == meta:
            raise PermissionError(13, "Permission denied", str(meta))
        return real_read(self, *args, **kwargs)

    monkeypatch.setattr(pathlib.Path, "read_text", read_text)
    fake.new_qwk, fake.current_qwk = 0.75, 0.80
    v2 = pipeline.train_assignment(app, aid, reason="erasure")
    assert v2.status == "promoted", v2.gate
    assert v2.gate["checks"]["beats_current"] is None
    with app.app_context():
        v1 = db.session.scalar(db.select(ModelVersion).filter_by(assignment_id=aid, version=1))
        assert v1.status == "retired" and "deleted" in v1.gate["retired"]["reason"]


# -- scoring --------------------------------------------------------------------------------------

@pytest.fixture
def served(make_app):
    """A promoted v1 of a fresh assignment and two new essays."""
    app = make_app()
    _, mv_id, model_dir, subs = tinymodel.served_course(app, essays=2)
    return SimpleNamespace(app=app, mv_id=mv_id, model_dir=model_dir, subs=subs)


def _score_event(app, submission_id: int) -> None:
    """The scoring handler as the worker runs it: in the job's transaction, committed after."""
    with app.app_context():
        score_new_submission(SimpleNamespace(app=app, payload={"submission_id": submission_id}))
        db.session.commit()


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_a_damaged_model_means_the_essay_waits_and_one_error_names_the_file(served, damage, caplog):
    app = served.app
    DAMAGE[damage](served.model_dir)
    scorer.forget(served.model_dir)
    with pytest.raises(scorer.NoModel, match="unreadable"):
        scorer.score_submission(app, served.subs[0])
    caplog.set_level(logging.INFO)
    for sid in served.subs:
        _score_event(app, sid)          # acknowledged: no retry, no dead letter
    with app.app_context():
        assert db.session.scalar(db.select(AiProposal.id)) is None
        noted = db.session.get(ModelVersion, served.mv_id).gate.get("unreadable")
        assert noted and DAMAGED_FILE[damage] in noted["detail"]
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1, "one error per version directory, not one per essay"
    assert "event=model_files_unreadable" in errors[0] and str(served.model_dir / DAMAGED_FILE[damage]) in errors[0]


def test_the_dashboard_says_why_essays_wait_until_the_files_are_back(app, client, world):
    with app.app_context():
        model_dir, mv = tinymodel.promoted_v1(app, db.session.get(Assignment, world.assignment_a))
        subs = [Submission(assignment_id=world.assignment_a, text=f"Essay {i} about the face on Mars. " * 20,
                           word_count=140) for i in range(2)]
        db.session.add_all(subs)
        db.session.commit()
        first, second = (s.id for s in subs)
    _teacher(client, app, world)

    def status() -> str:
        page = client.get(f"/dashboard/a/{world.assignment_a}").get_data(as_text=True)
        return " ".join(re.sub(r"<[^>]+>", " ", re.search(r'<p id="model-status">(.*?)</p>', page, re.S)
                               .group(1)).split())

    assert status().startswith("Version 1 is scoring new essays")
    _truncate(model_dir / modelfiles.ONNX_FP32)
    _score_event(app, first)
    assert status() == ("Version 1 is in service, but its files cannot be read from disk (missing or damaged), "
                        "so new essays wait for you. Use “Train now” to replace it.")
    tinymodel.export(model_dir)         # restored from a backup
    _score_event(app, second)
    with app.app_context():
        assert db.session.scalar(db.select(AiProposal.submission_id)) == second
    assert status().startswith("Version 1 is scoring new essays")


@pytest.mark.parametrize("error", [OSError(24, "Too many open files"), PermissionError(13, "Permission denied")],
                         ids=["passing", "not-ours-to-read"])
def test_a_passing_failure_of_the_machine_is_not_called_damage(served, monkeypatch, error):
    """Too many open files or a disk read error passes: the job is retried, the model is not
    called damaged. A file this process may not read stays that way until someone mends it."""
    import onnxruntime as ort

    def failing(*args, **kwargs):
        raise error

    scorer.forget(served.model_dir)
    monkeypatch.setattr(ort, "InferenceSession", failing)
    if isinstance(error, PermissionError):
        with pytest.raises(scorer.UnusableFiles):
            scorer.score_submission(served.app, served.subs[0])
    else:
        with pytest.raises(OSError) as raised:
            scorer.score_submission(served.app, served.subs[0])
        assert not isinstance(raised.value, scorer.NoModel)
