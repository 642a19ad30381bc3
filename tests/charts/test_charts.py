"""Dashboard charts: valid accessible SVG, the right number of marks, values as text, and a
"no data yet" panel (never an exception) for empty / single / NaN input."""
from __future__ import annotations

import math
import xml.etree.ElementTree as ET

import pytest

from lti_app.charts import agreement_bars, bar_chart, confusion_matrix, line_chart, progress_bar

NS = "{http://www.w3.org/2000/svg}"
NAN = float("nan")


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == f"{NS}svg"
    assert root.get("role") == "img"
    title, desc = root.find(f"{NS}title"), root.find(f"{NS}desc")
    assert title is not None and title.text and title.text.strip()
    assert desc is not None and desc.text and desc.text.strip()
    # aria-labelledby must point at the title and desc of THIS chart
    assert root.get("aria-labelledby").split() == [title.get("id"), desc.get("id")]
    assert int(root.get("width")) <= 600 and "max-width:100%" in root.get("style")
    return root


def texts(root: ET.Element) -> list[str]:
    return ["".join(t.itertext()).strip() for t in root.iter(f"{NS}text")]


def by_class(root: ET.Element, cls: str) -> list[ET.Element]:
    return [e for e in root.iter() if cls in (e.get("class") or "").split()]


def is_no_data(svg: str) -> bool:
    root = parse(svg)
    return "No data yet" in texts(root) and root.find(f"{NS}desc").text.startswith("No data yet")


def test_progress_bar_prints_percentage_and_clamps():
    root = parse(progress_bar(0.42, "Training the course model"))
    assert "42%" in texts(root) and "Training the course model" in texts(root)
    done = by_class(root, "gl-progress-done")[0]
    assert float(done.get("width")) == pytest.approx(0.42 * 528, abs=0.2)
    full = parse(progress_bar(1.7, "Overshoot"))
    assert "100%" in texts(full)
    assert is_no_data(progress_bar(NAN, "Training")) and is_no_data(progress_bar(None, "Training"))


def test_confusion_matrix_has_one_cell_per_pair_with_counts():
    matrix = [[5, 2, 0], [1, 7, 3], [0, 4, 11]]
    root = parse(confusion_matrix(matrix, ["2", "3", "4"]))
    cells = by_class(root, "gl-cell")
    assert len(cells) == 9
    counts = {(c.get("data-row"), c.get("data-col")): "".join(c.find(f"{NS}text").itertext())
              for c in cells}
    assert counts[("3", "4")] == "3" and counts[("4", "4")] == "11" and counts[("2", "4")] == "0"
    desc = root.find(f"{NS}desc").text
    assert "33 essays" in desc and "Exact agreement on 23 essays" in desc
    # the diagonal is marked by an outline, not only by colour
    diag = [c for c in cells if c.get("data-row") == c.get("data-col")]
    assert all(c.find(f"{NS}rect").get("stroke-width") == "2" for c in diag)


@pytest.mark.parametrize("matrix,labels", [([], []), ([[0, 0], [0, 0]], ["1", "2"]),
                                           ([[1, NAN], [0, 1]], ["1", "2"]),
                                           ([[1, 2, 3]], ["1"]), (None, None)])
def test_confusion_matrix_without_usable_data(matrix, labels):
    assert is_no_data(confusion_matrix(matrix, labels))


def test_line_chart_points_and_values():
    pts = [(30, 0.41), (60, 0.55), (90, NAN), (120, 0.72)]
    root = parse(line_chart(pts, "Graded essays", "QWK"))
    assert len(by_class(root, "gl-point")) == 3          # NaN point skipped, not plotted
    values = [t for t in texts(root)]
    for v in ("0.41", "0.55", "0.72", "Graded essays", "QWK"):
        assert v in values
    assert "120: 0.72" in root.find(f"{NS}desc").text


def test_line_chart_single_point_and_many_points():
    one = parse(line_chart([(30, 0.5)], "Graded essays", "QWK"))
    assert len(by_class(one, "gl-point")) == 1 and "0.50" in texts(one)
    many = parse(line_chart([(i, i / 100) for i in range(1, 60)], "n", "QWK"))
    assert len(by_class(many, "gl-point")) == 59
    # too many to label each: first, best and latest are written
    assert {"0.01", "0.59"} <= {"".join(t.itertext()) for t in by_class(many, "gl-value")}


@pytest.mark.parametrize("pts", [[], None, [(NAN, NAN)], [(1, math.inf)], [("x", 1)]])
def test_line_chart_without_usable_data(pts):
    assert is_no_data(line_chart(pts, "Graded essays", "QWK"))


def test_bar_chart_band_and_out_of_band_words():
    root = parse(bar_chart({"ELL": -0.23, "Non-ELL": 0.04, "Unknown": NAN}, threshold=0.10))
    bars = by_class(root, "gl-bar")
    assert [b.get("data-group") for b in bars] == ["ELL", "Non-ELL"]
    assert bars[0].get("fill") != bars[1].get("fill")
    all_text = texts(root)
    assert "-0.23 (outside band)" in all_text and "0.04" in all_text and "no data" in all_text
    assert "shaded band: ±0.10" in all_text and len(by_class(root, "gl-band")) == 1
    assert "Outside the band: ELL." in root.find(f"{NS}desc").text


@pytest.mark.parametrize("groups", [{}, None, {"A": NAN, "B": None}])
def test_bar_chart_without_usable_data(groups):
    assert is_no_data(bar_chart(groups))


def test_agreement_bars():
    root = parse(agreement_bars(0.62, 0.95))
    assert len(by_class(root, "gl-bar")) == 2
    assert {"62%", "95%", "Exact score", "Within one point"} <= set(texts(root))
    assert is_no_data(agreement_bars(NAN, 0.9))
    with pytest.raises(ValueError, match="fraction"):
        agreement_bars(62, 95)


def test_long_group_names_are_shortened_but_kept_in_desc():
    name = "English language learners (self-reported)"
    root = parse(bar_chart({name: 0.02}))
    shown = [t for t in texts(root) if t.startswith("English")]
    assert shown and len(shown[0]) <= 20 and shown[0].endswith("\u2026")
    assert name in root.find(f"{NS}desc").text


def test_numpy_inputs_are_accepted():
    np = pytest.importorskip("numpy")
    root = parse(confusion_matrix(np.array([[3, 1], [0, 2]]), np.array([1, 2])))
    assert len(by_class(root, "gl-cell")) == 4
    assert len(by_class(parse(line_chart(np.array([[1, 0.2], [2, 0.4]]), "n", "QWK")), "gl-point")) == 2
    assert is_no_data(line_chart(np.array([]), "n", "QWK"))


def test_labels_are_escaped_and_ids_unique_per_chart():
    a = bar_chart({'<script>"x"&': 0.3})
    root = parse(a)
    assert '<script>"x"&' in texts(root)
    b = parse(bar_chart({"other": 0.3}))
    assert root.find(f"{NS}title").get("id") != b.find(f"{NS}title").get("id")
    assert a == bar_chart({'<script>"x"&': 0.3})     # deterministic markup
