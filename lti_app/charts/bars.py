"""Horizontal bar charts: per-group SMD around zero with the fairness band, and agreement rates.

Bars are labelled with their value; a group outside the ±threshold band also gets the words
"outside band" (and a warning colour), so the judgement does not rest on colour.
"""
from __future__ import annotations

from lti_app.charts.svg import (ACCENT, BAND, FG, MUTED, WARN, WIDTH, clip, document, esc,
                                finite, fmt, no_data, pct, rect, text)

ROW = 30
LABEL_W = 150


def bar_chart(groups: dict, threshold: float = 0.10, *,
              title: str = "Score difference by group (SMD)",
              value_label: str = "Standardised mean difference",
              limits: dict | None = None, notes: list[str] | tuple = ()) -> str:
    """`groups`: {group label: SMD}. NaN/None values are listed as "no data" for that group; a
    string value is printed instead of a bar (e.g. "too few essays, not checked") and kept out of
    the scale: its words run across the plot, where the zero line and the band leave a gap.
    `limits`: {group label: band} for rows judged against another limit than `threshold` (each row
    then gets its own shaded band). `notes`: lines of explanation printed under the chart and added
    to its description."""
    items = [(str(k), v) for k, v in (groups or {}).items()]
    values = [float(v) for _, v in items if finite(v)]
    if not values:
        return no_data(title, "Group differences appear once essays with group labels are scored.",
                       kind="bars")
    band = abs(float(threshold)) if finite(threshold) else 0.0
    row_band = {name: band for name, _ in items}
    for name, limit in (limits or {}).items():
        if str(name) in row_band:
            row_band[str(name)] = abs(float(limit)) if finite(limit) else 0.0
    mixed = len({row_band[n] for n, v in items if finite(v)}) > 1
    bands = [row_band[n] for n, v in items if finite(v)]
    common = bands[0] if bands else band
    reach = max([abs(v) for v in values] + [b * 2 for b in bands] + [0.05]) * 1.1
    top, plot_l, plot_r = 40, LABEL_W, WIDTH - 120
    mid = (plot_l + plot_r) / 2
    scale = (plot_r - plot_l) / 2 / reach
    foot = top + ROW * len(items) + 16
    height = foot + 24 + 16 * len(notes)
    parts = [text(8, 18, value_label, size=12, fill=MUTED)]
    # Rows in words span the plot (their text is longer than half of it): the band and the zero
    # line leave a gap there rather than run through the words.
    spans = _scaled_spans(items)
    if mixed:
        for i, (name, value) in enumerate(items):
            b = row_band[name]
            if b and finite(value):
                parts.append(rect(mid - b * scale, top + ROW * i, 2 * b * scale, ROW, BAND,
                                  'class="gl-band"'))
        parts.append(text(mid, foot, "shaded band: each row's limit ("
                          + ", ".join(f"±{fmt(b)}" for b in sorted(set(bands), reverse=True) if b)
                          + ")", anchor="middle", size=11, fill=MUTED))
    elif common:
        for first, end in spans:
            y0 = top - 6 if first == 0 else top + ROW * first
            parts.append(rect(mid - common * scale, y0, 2 * common * scale, top + ROW * end - y0, BAND,
                              'class="gl-band"'))
        parts.append(text(mid, foot, f"shaded band: ±{fmt(common)}", anchor="middle", size=11,
                          fill=MUTED))
    for first, end in spans:
        parts.append(f'<line x1="{mid:.1f}" x2="{mid:.1f}" y1="{top - 8 if first == 0 else top + ROW * first}" '
                     f'y2="{top + ROW * end}" stroke="{FG}"/>')
    parts.append(text(mid, top - 12, "0", anchor="middle", size=11, fill=MUTED))
    outside = []
    for i, (name, value) in enumerate(items):
        y = top + ROW * i
        parts.append(text(plot_l - 10, y + ROW / 2 + 4, clip(name), anchor="end"))
        if isinstance(value, str):
            parts.append(text(plot_l, y + ROW / 2 + 4, value, size=12, fill=MUTED,
                              extra='class="gl-not-checked"'))
            continue
        if not finite(value):
            parts.append(text(mid + 6, y + ROW / 2 + 4, "no data", size=12, fill=MUTED))
            continue
        v, b = float(value), row_band[name]
        out = b > 0 and abs(v) > b
        if out:
            outside.append(name)
        x = mid if v >= 0 else mid + v * scale
        parts.append(rect(x, y + 6, abs(v) * scale, ROW - 12, WARN if out else ACCENT,
                          f'class="gl-bar" data-group="{esc(name)}"'))
        label = fmt(v) + ((f" (outside ±{fmt(b)})" if mixed else " (outside band)") if out else "")
        parts.append(text(max(mid, mid + v * scale) + 6, y + ROW / 2 + 4, label, size=12,
                          weight="600" if out else "normal", extra='class="gl-value"'))
    for k, line in enumerate(notes):
        parts.append(text(8, foot + 22 + 16 * k, line, size=11, fill=MUTED, extra='class="gl-note"'))

    def said(name, value):
        if isinstance(value, str):
            return f"{name}: {value}"
        if not finite(value):
            return f"{name}: no data"
        return f"{name}: {fmt(value)}" + (f" (limit ±{fmt(row_band[name])})" if mixed else "")

    desc = (f"{value_label} per group" + ("" if mixed else f", band ±{fmt(common)}") + ": "
            + "; ".join(said(n, v) for n, v in items) + ". "
            + (f"Outside the band: {', '.join(outside)}." if outside
               # a row in words ("too few essays to tell") may hold a figure beyond the band
               else "All groups drawn as bars are within the band." if any(isinstance(v, str) for _, v in items)
               else "All groups within the band.")
            + "".join(f" {line}" for line in notes))
    return document(title, desc, "".join(parts), height, kind="bars")


def _scaled_spans(items: list[tuple[str, object]]) -> list[tuple[int, int]]:
    """[(first row, row after the last)] of each run of rows drawn on the scale (not in words)."""
    spans, first = [], None
    for i, (_, value) in enumerate([*items, ("", "")]):
        if isinstance(value, str):
            if first is not None:
                spans.append((first, i))
            first = None
        elif first is None:
            first = i
    return spans


def agreement_bars(exact: float, adjacent: float, *,
                   title: str = "Agreement with the teacher's scores") -> str:
    """`exact`: share of essays scored the same; `adjacent`: share within ±1 (exact included)."""
    if not (finite(exact) and finite(adjacent)):
        return no_data(title, "Agreement is measured once the model has been checked against "
                       "held-out teacher grades.", kind="agreement")
    for name, value in (("exact", exact), ("adjacent", adjacent)):
        if not 0.0 <= float(value) <= 1.0:
            raise ValueError(f"{name} agreement must be a fraction in [0, 1], got {value!r}")
    rows = [("Exact score", float(exact)), ("Within one point", float(adjacent))]
    top, plot_l, plot_w = 16, LABEL_W, WIDTH - LABEL_W - 70
    parts = []
    for i, (name, value) in enumerate(rows):
        y = top + 40 * i
        parts.append(text(plot_l - 10, y + 18, name, anchor="end"))
        parts.append(rect(plot_l, y + 4, plot_w, 20, BAND))
        parts.append(rect(plot_l, y + 4, plot_w * value, 20, ACCENT, 'class="gl-bar"'))
        parts.append(text(plot_l + plot_w + 8, y + 19, pct(value), weight="600",
                          extra='class="gl-value"'))
    desc = (f"Exact agreement {pct(exact)} of essays; within one point {pct(adjacent)}.")
    return document(title, desc, "".join(parts), top + 40 * len(rows) + 4, kind="agreement")
