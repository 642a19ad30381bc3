"""A half-point version's figures (QWK and exact agreement on the doubled scale: another figure
than a whole-point version's) are labelled "in half points" on the dashboard's curve and agreement
bars and in `gradeloop model list`; a whole-point course's look as before."""
from __future__ import annotations

import re

from lti_app.extensions import db
from lti_app.models import ModelVersion
from lti_app.dashboard import report
from tests.charts.test_dashboard_report import assignment, held, plain, render, svg_desc, svg_texts, version
from tests.worker.coursework import make_assignment
from worker.ml.cli import model_group


def test_the_curve_and_bars_label_half_point_versions():
    whole, half = version(held(qwk=0.75), v=1, n=40), version(held(qwk=0.86, step=0.5), v=2, n=60)
    charts = report.quality_charts(assignment(), half, [half, whole])
    assert "in half points" in svg_texts(charts["curve"])   # the legend
    assert "60: 0.860 (in half points)" in svg_desc(charts["curve"]) and "40: 0.750;" in svg_desc(charts["curve"])
    assert "in half points" in svg_desc(charts["agreement"]) or "in half points" in charts["agreement"]


def test_a_whole_point_course_looks_as_before():
    whole = [version(held(qwk=0.75), v=1, n=40), version(held(qwk=0.78, step=1), v=2, n=60)]
    charts = report.quality_charts(assignment(), whole[1], whole)
    plain = report.charts.line_chart(report.qwk_curve(whole), "Graded essays", "QWK vs teacher",
                                     title="Agreement as more essays are graded", digits=3)
    assert charts["curve"] == plain and "half points" not in charts["agreement"]


def test_model_list_says_which_versions_give_half_points(app):
    with app.app_context():
        a = make_assignment()
        for number, step in ((1, None), (2, 0.5)):
            figures = {"qwk": 0.8, "smd": 0.0, **({"step": step} if step else {})}
            db.session.add(ModelVersion(assignment_id=a.id, version=number, status="retired", approach="frozen-ridge",
                                        path=f"/nowhere/v{number}", n_train=40, metrics={"held_out": figures}, gate={}))
        db.session.commit()
        result = app.test_cli_runner().invoke(cli=model_group, args=["list", "--assignment", str(a.id)])
    lines = {line.split("\t")[0]: line for line in result.output.splitlines() if line.startswith("v")}
    assert "half points" not in lines["v1"] and "\tin half points" in lines["v2"], result.output


def test_the_page_says_half_points_beside_the_version_and_its_summary(app):
    whole, half = version(held(qwk=0.75), v=1, n=40), version(held(qwk=0.86, step=0.5), v=2, n=60)
    html = render(app, assignment(), half, held(qwk=0.86, step=0.5), [half, whole])
    row = {v: re.search(rf'<tr data-version="{v}">.*?</tr>', html, re.S).group(0) for v in (1, 2)}
    assert "in half points" in row[2] and "in half points" not in row[1]
    assert "(in half points) QWK vs your grades" in plain(html)
    assert "half points" not in render(app, assignment(), whole, held(qwk=0.75), [whole])
