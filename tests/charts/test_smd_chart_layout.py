"""The SMD chart's rows in words ("+0.35, too few essays to tell") stay clear of the zero line, the
shaded band and the bars: they were drawn across the zero line. Checked on the SVG's own
coordinates, with a generous width for each character (the widest a 12 px sans-serif gets on
average), for the rows the dashboard builds (`report.smd_rows`)."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from types import SimpleNamespace as NS

import pytest

from lti_app.charts import bar_chart
from lti_app.charts.svg import WIDTH
from lti_app.dashboard import report

SVG = "{http://www.w3.org/2000/svg}"
CHAR_W = 0.62   # of the font size: above the average width of a system sans-serif's characters
GATE = {"thresholds": {"min_qwk": 0.7, "max_smd": 0.15, "max_group_smd": 0.10, "group_min_n": 5},
        "checks": {}}


def _smd_chart(groups: dict, smd: float = 0.05) -> ET.Element:
    version = NS(metrics={"held_out": {"smd": smd, "smd_by_group": groups}}, gate=GATE)
    rows, limits = report.smd_rows(version)
    return ET.fromstring(bar_chart(rows, threshold=0.15, limits=limits, notes=report.smd_notes(version, rows)))


def _worded(root: ET.Element) -> list[tuple[str, tuple[float, float, float, float]]]:
    """(text, box x0, y0, x1, y1) of each row in words, anchored at its start."""
    out = []
    for t in root.iter(f"{SVG}text"):
        if "gl-not-checked" not in (t.get("class") or "").split():
            continue
        assert t.get("text-anchor") == "start"
        x, y, size, said = float(t.get("x")), float(t.get("y")), float(t.get("font-size")), "".join(t.itertext())
        out.append((said, (x, y - size, x + CHAR_W * size * len(said), y + 0.3 * size)))
    return out


def _shapes(root: ET.Element) -> list[tuple[str, tuple[float, float, float, float]]]:
    """(what, box) of the zero line's segments, the shaded bands and the bars."""
    out = []
    for e in root.iter():
        if e.tag == f"{SVG}line":
            x1, x2, y1, y2 = (float(e.get(k)) for k in ("x1", "x2", "y1", "y2"))
            out.append(("zero line", (min(x1, x2), min(y1, y2), max(x1, x2), max(y1, y2))))
        elif e.tag == f"{SVG}rect" and {"gl-band", "gl-bar"} & set((e.get("class") or "").split()):
            x, y, w, h = (float(e.get(k)) for k in ("x", "y", "width", "height"))
            out.append((e.get("class"), (x, y, x + w, y + h)))
    return out


def _overlap(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


CASES = {
    # one group beyond the limit on 10 essays (interval reaching inside): "too few essays to tell"
    "too few to tell": {"Female": {"n": 10, "smd": 0.35, "ci": [-0.3, 1.0]},
                        "Male": {"n": 40, "smd": -0.04, "ci": [-0.3, 0.2]}},
    # below the gate's minimum: the longest words, first among the groups
    "not checked": {"Tiny": {"n": 2, "smd": -0.81, "ci": [-2.0, 0.4], "small": True},
                    "Female": {"n": 10, "smd": 0.35, "ci": [-0.3, 1.0]},
                    "Male": {"n": 40, "smd": 0.04, "ci": [-0.2, 0.3]}},
    # every group in words: only the overall row has a bar
    "all in words": {"A": {"n": 3, "smd": 0.5, "ci": [-1, 2], "small": True},
                     "B": {"n": 8, "smd": -0.4, "ci": [-1, 0.2]}},
    # figures stored before the interval rule, under the minimum
    "old figures": {"Tiny": {"n": 2, "smd": -99.0}, "Male": {"n": 40, "smd": 0.08}},
}


@pytest.mark.parametrize("groups", CASES.values(), ids=CASES.keys())
def test_rows_in_words_clear_the_zero_line_the_band_and_the_bars(groups):
    root = _smd_chart(groups)
    worded, shapes = _worded(root), _shapes(root)
    assert worded and any(what == "zero line" for what, _ in shapes)
    for said, box in worded:
        assert box[2] <= WIDTH, f"{said!r} runs off the chart"
        for what, shape in shapes:
            assert not _overlap(box, shape), f"{said!r} {box} overlaps the {what} {shape}"


def test_the_zero_line_still_runs_through_every_row_with_a_bar():
    root = _smd_chart(CASES["not checked"])
    lines = [box for what, box in _shapes(root) if what == "zero line"]
    for e in root.iter(f"{SVG}rect"):
        if "gl-bar" in (e.get("class") or "").split():
            top, bottom = float(e.get("y")), float(e.get("y")) + float(e.get("height"))
            assert any(y0 <= top and bottom <= y1 for _, y0, _, y1 in lines), e.get("data-group")
