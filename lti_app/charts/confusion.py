"""Confusion matrix heatmap (teacher score x AI score) with the count printed in every cell.

Shade encodes the share of each row (how the AI scored essays the teacher gave that score);
the count is always written and the agreement diagonal is outlined, so colour is never the
only cue.
"""
from __future__ import annotations

from lti_app.charts.svg import (FG, MUTED, WIDTH, clip, contrast, document, esc, finite, fmt,
                                no_data, rect, text)


def _shade(share: float) -> tuple[str, str]:
    """Fill from white to the accent blue, and the count's colour on it: white or black, whichever
    contrasts more. One of the two always reaches 4.58:1 (WCAG asks 4.5:1 for text); the page's
    dark grey (FG) leaves mid blues where neither it nor white does."""
    share = min(1.0, max(0.0, share))
    rgb = tuple(round(255 + (c - 255) * share) for c in (11, 92, 173))
    fill = "#{:02x}{:02x}{:02x}".format(*rgb)
    return fill, ("#fff" if contrast(rgb, (255, 255, 255)) >= contrast(rgb, (0, 0, 0)) else "#000")


MAX_CELLS = 12   # scales wider than this are grouped into bands (a 0-100 scale is 101x101)
NICE_WIDTHS = (1, 2, 3, 4, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000)


def _essays(count: float) -> str:
    return f"{fmt(count)} essay{'' if float(count) == 1 else 's'}"


def _lower_first(label: str) -> str:
    """"Teacher score" -> "teacher score", but "AI score" stays "AI score"."""
    return label if label[:2].isupper() else label[:1].lower() + label[1:]


def banded(matrix, lo: int, hi: int, max_cells: int = MAX_CELLS,
           step: float = 1) -> tuple[list[list[float]], list[str], bool]:
    """The lo..hi confusion `matrix` as it is best shown: exact cells when the scale has at most
    `max_cells` points, else summed into at most `max_cells` bands of a round width, labelled
    "lo–hi" (a short last band is merged into the one before). Returns (matrix, labels, banded).
    `step`: what one row is worth in the assignment's units (a model of a teacher who grades in
    half points stores its figures on the doubled scale, 2..12 with step 0.5: labelled 1, 1.5, ... 6)."""
    lo, hi = int(lo), int(hi)
    k = hi - lo + 1
    rows = [list(r) for r in matrix] if matrix is not None else []
    label = lambda units: f"{units * step:g}"  # noqa: E731
    if k <= max_cells or len(rows) != k or any(len(r) != k for r in rows):
        return rows, [label(x) for x in range(lo, hi + 1)], False
    width = next((w for w in NICE_WIDTHS if -(-k // w) <= max_cells), -(-k // max_cells))
    starts = list(range(0, k, width))
    if len(starts) > 1 and k - starts[-1] < width / 2:   # "100" alone after "90–99": merge
        starts.pop()
    bounds = [(a, (starts[i + 1] if i + 1 < len(starts) else k) - 1) for i, a in enumerate(starts)]
    index = [next(b for b, (a, z) in enumerate(bounds) if a <= i <= z) for i in range(k)]
    out = [[0.0] * len(bounds) for _ in bounds]
    for i, row in enumerate(rows):
        for j, value in enumerate(row):
            out[index[i]][index[j]] += float(value) if finite(value) else float("nan")
    labels = [f"{label(lo + a)}\u2013{label(lo + z)}" if z > a else label(lo + a) for a, z in bounds]
    return out, labels, True


def confusion_matrix(matrix, labels, *, title: str = "Teacher vs AI scores",
                     row_label: str = "Teacher score", col_label: str = "AI score",
                     bands: bool = False) -> str:
    """`labels` name the rows/columns; with `bands` they are score ranges (see `banded`), and the
    diagonal means "same band" rather than "same score"."""
    rows = [list(r) for r in matrix] if matrix is not None else []
    labels = [str(x) for x in labels] if labels is not None else []
    n = len(labels)
    if (n == 0 or len(rows) != n or any(len(r) != n for r in rows)
            or not all(finite(v) for r in rows for v in r)):
        return no_data(title, "The matrix fills in as essays get both a teacher and an AI score.",
                       kind="confusion")
    total = sum(float(v) for r in rows for v in r)
    if total <= 0:
        return no_data(title, "No essay has both a teacher and an AI score yet.", kind="confusion")
    left, top = 96, 56
    cell = min(56.0, (WIDTH - left - 16) / n)
    parts = [text(left + cell * n / 2, 18, col_label, anchor="middle", weight="600"),
             text(18, top + cell * n / 2, row_label, anchor="middle", weight="600",
                  extra=f'transform="rotate(-90 18 {top + cell * n / 2:.1f})"')]
    for j, lab in enumerate(labels):
        parts.append(text(left + cell * (j + 0.5), top - 10, clip(lab, 7), anchor="middle",
                          fill=MUTED))
    agree = 0.0
    for i, row in enumerate(rows):
        y = top + cell * i
        parts.append(text(left - 10, y + cell / 2 + 4, clip(labels[i], 8), anchor="end", fill=MUTED))
        row_total = sum(float(v) for v in row)
        for j, value in enumerate(row):
            x = left + cell * j
            fill, ink = _shade(float(value) / row_total if row_total else 0.0)
            diag = i == j
            agree += float(value) if diag else 0.0
            stroke = f'stroke="{FG}" stroke-width="2"' if diag else 'stroke="#fff"'
            parts.append(f'<g class="gl-cell" data-row="{esc(labels[i])}" data-col="{esc(labels[j])}">'
                         + rect(x, y, cell, cell, fill, stroke)
                         + text(x + cell / 2, y + cell / 2 + 5, fmt(value), anchor="middle",
                                fill=ink, weight="600" if diag else "normal")
                         + "</g>")
    note_y = top + cell * n + 22
    same = "same score band" if bands else "same score"
    parts.append(text(left, note_y, f"Outlined diagonal: {same} ({fmt(agree)} of {_essays(total)}). "
                      f"Shade: share of the {_lower_first(row_label)} row.", size=11, fill=MUTED))
    desc = (f"{n} by {n} matrix of {_essays(total)}; rows are {_lower_first(row_label)}"
            + (" bands" if bands else "") + f", columns {_lower_first(col_label)}"
            + (" bands" if bands else "") + ". "
            + (f"Same band for {_essays(agree)}" if bands else f"Exact agreement on {_essays(agree)}")
            + ". Rows: "
            + "; ".join(f"{labels[i]}: " + ", ".join(fmt(v) for v in rows[i]) for i in range(n))
            + ".")
    return document(title, desc, "".join(parts), int(note_y + 14), kind="confusion")
