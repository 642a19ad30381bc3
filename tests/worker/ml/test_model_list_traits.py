"""`gradeloop model list` says, per version, which trait scores passed their check and which
auto-released grades leave out: withheld because the check failed, or because the trait was never
measured (`worker.ml.trait_checks`: verdicts on the version's gate, `withheld` deciding). Rows
written as the pipeline writes them; SQLite and PostgreSQL."""
from __future__ import annotations

import pytest

from lti_app.extensions import db
from lti_app.models import ModelVersion
from tests.worker.coursework import make_assignment
from worker.ml import trait_checks
from worker.ml.cli import model_group

TRAITS = [{"name": name, "min": 1, "max": 5} for name in ("Content", "Organisation", "Word choice")]
FIGURES = {"qwk": 0.82, "smd": 0.01, "n": 20, "scale": [1, 5],
           "confusion": [[2, 0, 0, 0, 0], [0, 5, 0, 0, 0], [0, 0, 6, 0, 0], [0, 0, 0, 5, 0], [0, 0, 0, 0, 2]]}
POOR = {**FIGURES, "qwk": 0.31}


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def cli_app(request, make_app):
    if request.param == "postgres":
        return make_app(database_url=request.getfixturevalue("scratch_postgres")())
    return make_app()


def _version(assignment_id: int, number: int, gate: dict, status: str = "retired") -> None:
    db.session.add(ModelVersion(assignment_id=assignment_id, version=number, status=status, approach="frozen-ridge",
                                path=f"/nowhere/v{number}", n_train=40,
                                metrics={"held_out": {"qwk": 0.8, "smd": 0.0}}, gate=gate))


def _listed(app, *args) -> dict[str, str]:
    """{"v1": its line, ...} of `gradeloop model list`."""
    result = app.test_cli_runner().invoke(cli=model_group, args=["list", *args])
    assert result.exit_code == 0, result.output
    return {line.split("\t")[0]: line for line in result.output.splitlines() if line.startswith("v")}


def test_each_version_says_which_traits_passed_were_withheld_or_not_measured(cli_app):
    with cli_app.app_context():
        a = make_assignment(traits=TRAITS)
        _version(a.id, 1, {"promote": True, "reasons": ["passed: QWK 0.800"]})   # trained before trait checks
        decision = {"promote": True, "reasons": ["passed: QWK 0.800"]}
        trait_checks.record(decision, [t["name"] for t in TRAITS],
                            {"Content": FIGURES, "Organisation": POOR, "Word choice": {"n": 0}})
        _version(a.id, 2, decision, status="promoted")
        decision = {"promote": True, "reasons": []}
        trait_checks.record(decision, [t["name"] for t in TRAITS], {name: FIGURES for name in
                                                                    ("Content", "Organisation", "Word choice")})
        _version(a.id, 3, decision, status="rejected")
        plain = make_assignment()
        _version(plain.id, 1, {"promote": True, "reasons": []})
        db.session.commit()
        aid, plain_id = a.id, plain.id
    lines = _listed(cli_app, "--assignment", str(aid))
    assert "\ttraits: not measured (withheld): Content, Organisation, Word choice" in lines["v1"], lines["v1"]
    assert ("\ttraits: passed: Content; withheld (did not pass): Organisation; not measured (withheld): Word choice"
            in lines["v2"]), lines["v2"]
    assert "\ttraits: passed: Content, Organisation, Word choice" in lines["v3"], lines["v3"]
    assert "traits" not in _listed(cli_app, "--assignment", str(plain_id))["v1"], "an assignment without traits"
    result = cli_app.test_cli_runner().invoke(cli=model_group, args=["list"])   # every assignment
    assert "withheld (did not pass): Organisation" in result.output, result.output
