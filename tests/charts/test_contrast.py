"""Every count in the confusion matrix is readable on its cell: text needs 4.5:1 against its
background (WCAG 2.1 1.4.3)."""
from __future__ import annotations

import xml.etree.ElementTree as ET

from lti_app.charts import confusion_matrix
from lti_app.charts.confusion import _shade
from tests.contrast import wcag_contrast

SVG = "{http://www.w3.org/2000/svg}"


def test_every_shade_gets_text_with_at_least_4_5_to_1():
    # A channel moves at most 244 steps from white to the accent blue: 10,000 shares reach every
    # fill the function can round to, and shares outside 0..1 are clamped to the ends.
    shades = {_shade(k / 10_000) for k in range(10_001)} | {_shade(-1.0), _shade(2.0)}
    fills = {fill for fill, _ in shades}
    assert len(fills) > 244, "the sweep missed fills"
    worst = min(shades, key=lambda s: wcag_contrast(*s))
    assert wcag_contrast(*worst) >= 4.5, f"{worst[1]} on {worst[0]}: {wcag_contrast(*worst):.2f}:1"


def test_the_drawn_matrix_uses_those_colours():
    """The reviewer's case: mid-blue cells (a third to two thirds of a row) once had white text at
    2.7-3.9:1."""
    svg = confusion_matrix([[3, 1, 0], [1, 4, 2], [0, 2, 6]], ["1", "2", "3"])
    cells = ET.fromstring(svg).iter(f"{SVG}g")
    pairs = [(cell.find(f"{SVG}rect").get("fill"), cell.find(f"{SVG}text").get("fill")) for cell in cells
             if cell.get("class") == "gl-cell"]
    assert len(pairs) == 9
    assert all(wcag_contrast(fill, ink) >= 4.5 for fill, ink in pairs), \
        [(fill, ink, round(wcag_contrast(fill, ink), 2)) for fill, ink in pairs]
