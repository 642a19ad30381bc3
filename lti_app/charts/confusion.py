"""Confusion matrix heatmap (teacher score x AI score) with the count printed in every cell.

Shade encodes the share of each row (how the AI scored essays the teacher gave that score);
the count is always written and the agreement diagonal is outlined, so colour is never the
only cue.
"""
from __future__ import annotations

from lti_app.charts.svg import (FG, MUTED, WIDTH, clip, document, esc, finite, fmt, no_data,
                                rect, text)


def _shade(share: float) -> tuple[str, str]:
    """Fill from white to the accent blue, and a text colour that keeps contrast on it."""
    share = min(1.0, max(0.0, share))
    r, g, b = (round(255 + (c - 255) * share) for c in (11, 92, 173))
    return f"#{r:02x}{g:02x}{b:02x}", ("#fff" if share > 0.55 else FG)


def confusion_matrix(matrix, labels, *, title: str = "Teacher vs AI scores",
                     row_label: str = "Teacher score", col_label: str = "AI score") -> str:
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
        parts.append(text(left + cell * (j + 0.5), top - 10, clip(lab, 6), anchor="middle",
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
    parts.append(text(left, note_y, f"Outlined diagonal: same score ({fmt(agree)} of {fmt(total)} "
                      f"essays). Shade: share of the teacher-score row.", size=11, fill=MUTED))
    desc = (f"{n} by {n} matrix of {fmt(total)} essays; rows are {row_label.lower()}, columns "
            f"{col_label.lower()}. Exact agreement on {fmt(agree)} essays. Rows: "
            + "; ".join(f"{labels[i]}: " + ", ".join(fmt(v) for v in rows[i]) for i in range(n))
            + ".")
    return document(title, desc, "".join(parts), int(note_y + 14), kind="confusion")
