"""The version history's status badge for a version that passed the promotion gate but was not put in
service because the teacher put another version in service while it trained (the pipeline keeps the
teacher's choice: `worker.ml.pipeline`). It read "rejected", as if it had failed. The version is
trained by the real pipeline with the training itself faked (tests/worker/ml/test_pipeline_guards.py's
`FakeTraining`), the teacher's rollback committed mid-run, then the dashboard is read through the
Flask test client (SQLite)."""
from __future__ import annotations

import re
import shutil

from lti_app.dashboard import wording
from lti_app.extensions import db
from lti_app.models import Assignment, ModelVersion
from tests.coursework.helpers import build_world, teacher_dashboard
from tests.worker.coursework import add_graded
from tests.worker.ml.test_pipeline_guards import fake  # noqa: F401  (a fixture)
from worker.ml import pipeline, versions


def _plain(markup: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", markup).split())


def _row(page: str, version: int) -> str:
    return _plain(re.search(rf'<tr data-version="{version}">(.*?)</tr>', page, re.S).group(1))


def _graded_course(app, fake):  # noqa: F811
    """Course A's assignment with 20 graded essays; the faked figures carry what the page shows too."""
    figures = fake._metrics
    fake._metrics = lambda qwk: {**figures(qwk), "exact": 0.8, "adjacent": 1.0}
    world = build_world(app)
    with app.app_context():
        a = db.session.get(Assignment, world.assignment_a)
        a.min_graded = 15
        add_graded(a, 20)
    return world


def _three_versions(app, fake):  # noqa: F811
    """v1 and v2 promoted in turn; while v3 trains the teacher puts v1 back in service, so v3, which
    passes the gate, is kept out of service. Returns (world, v3)."""
    world = _graded_course(app, fake)
    assert pipeline.train_assignment(app, world.assignment_a).status == "promoted"
    assert pipeline.train_assignment(app, world.assignment_a).status == "promoted"

    def teacher_rolls_back(*_):   # in the run's own session: SQLite has one writer
        a = db.session.get(Assignment, world.assignment_a)
        versions.promote(a, db.session.scalar(db.select(ModelVersion).filter_by(assignment_id=a.id, version=1)))
        db.session.commit()
    fake.on["retrain"] = teacher_rolls_back
    v3 = pipeline.train_assignment(app, world.assignment_a)
    assert v3.status == "rejected" and v3.onnx_path, "the pipeline keeps the teacher's choice"
    return world, v3


def test_a_version_kept_out_of_service_by_a_rollback_reads_as_passed(app, fake):  # noqa: F811
    world, _ = _three_versions(app, fake)
    row = _row(teacher_dashboard(app, world), 3)
    assert "rejected" not in row, row
    assert "passed, not put in service" in row, row
    assert "another version was put in service while it trained" in row, row
    assert "Use version 3" in row, "it can still be put in service"


def test_a_version_that_failed_the_gate_still_reads_rejected(app, fake):  # noqa: F811
    world = _graded_course(app, fake)
    assert pipeline.train_assignment(app, world.assignment_a).status == "promoted"
    fake.new_qwk = 0.5
    assert pipeline.train_assignment(app, world.assignment_a).status == "rejected"
    row = _row(teacher_dashboard(app, world), 2)
    assert "rejected" in row and "passed" not in row and "Not used: it did not pass the checks" in row, row


def test_its_files_gone_it_is_not_said_to_have_failed_the_checks(app, fake):  # noqa: F811
    """The action cell of a version that cannot serve again: one that passed says why it cannot,
    never "it did not pass the checks"."""
    world, v3 = _three_versions(app, fake)
    with app.app_context():
        shutil.rmtree(versions.model_dir(app, db.session.get(ModelVersion, v3.id)))
    row = _row(teacher_dashboard(app, world), 3)
    assert "did not pass" not in row and "Cannot be used again: its saved files are missing" in row, row


def test_every_stored_shape_of_the_case_reads_as_passed():
    """As the pipeline stores it now (`kept_out`, with its reason) and as versions stored before it
    kept the gate (`promote` still true), the badge says it passed; a failed check or a plain
    refusal never does."""
    passed = {"spread": True, "qwk": True, "smd": True, "beats_current": True}

    def status(gate):
        return wording.version_status(ModelVersion(id=3, version=3, status="rejected", gate=gate), None)[0]
    assert status({"promote": False, "reasons": [wording.CHOSEN_MEANWHILE], "checks": passed}) == \
        "passed, not put in service"
    assert status({"promote": False, "reasons": [wording.CHOSEN_MEANWHILE],
                   "checks": {**passed, "qwk": False}}) == "rejected"
    assert status({"promote": False, "reasons": ["QWK 0.5 is below 0.70"], "checks": passed}) == "rejected"
    assert status({}) == "rejected"
    assert status({"promote": True, "reasons": ["passed: QWK 0.812"], "checks": passed}) == "passed, not put in service"
    assert status({"promote": False, "kept_out": {"why": "chosen_meanwhile", "serving_version": 1},
                   "reasons": [], "checks": passed}) == "passed, not put in service"
