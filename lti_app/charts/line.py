"""Line chart of one measured series, e.g. QWK against the number of graded essays.

Points with a missing/NaN coordinate are skipped (a training run that failed leaves a gap, not
a crash); with no valid point the chart says "no data yet". Values are written next to the
points (all of them up to `MAX_LABELLED`, otherwise the first, best and latest).
"""
from __future__ import annotations

import math

from lti_app.charts.svg import (ACCENT, LINE, MUTED, WIDTH, document, esc, finite, fmt, no_data,
                                text)

MAX_LABELLED = 12
HEIGHT = 300
LEFT, RIGHT, TOP, BOTTOM = 64, 24, 24, 56


def _nice_step(span: float, target: int = 5) -> float:
    raw = span / max(1, target)
    mag = 10 ** math.floor(math.log10(raw))
    return next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)


def _ticks(lo: float, hi: float) -> list[float]:
    step = _nice_step(hi - lo)
    start = math.ceil(lo / step - 1e-9) * step
    return [round(start + k * step, 10) for k in range(int((hi - start) / step + 1e-9) + 1)]


def _range(values: list[float], unit_interval: bool) -> tuple[float, float]:
    lo, hi = min(values), max(values)
    if unit_interval and lo >= 0 and hi <= 1:
        return 0.0, 1.0
    if lo == hi:
        pad = abs(lo) * 0.1 or 1.0
        return lo - pad, hi + pad
    pad = (hi - lo) * 0.08
    return lo - pad, hi + pad


def _pairs(points) -> list:
    """(x, y) pairs from any iterable; malformed entries are dropped like NaN ones."""
    if points is None:
        return []
    return [p for p in points if hasattr(p, "__len__") and len(p) == 2]


def line_chart(points, x_label: str, y_label: str, *, title: str = "Agreement with the teacher",
               y_unit_interval: bool = True, digits: int = 2, marked=(), mark_label: str = "") -> str:
    """`points`: iterable of (x, y). `y_unit_interval` pins the y axis to 0..1 when values fit.
    `digits`: decimals of the values written next to the points (3 for a QWK, which is judged
    against 0.70: 0.696 must not read as 0.70). `marked`: the points (x, y) of another kind,
    drawn hollow and named `mark_label` in a legend, their titles and the description (a QWK of a
    half-point version is on another scale); none: the chart as without them."""
    valid = sorted((float(x), float(y)) for x, y in _pairs(points) if finite(x) and finite(y))
    marked = {(float(x), float(y)) for x, y in _pairs(marked)}
    note = lambda p: f" ({mark_label})" if p in marked else ""  # noqa: E731
    if not valid:
        return no_data(title, f"{y_label} appears after the first model is trained.", kind="line")
    xs, ys = [p[0] for p in valid], [p[1] for p in valid]
    x0, x1 = (xs[0] - 1, xs[0] + 1) if xs[0] == xs[-1] else (xs[0], xs[-1])
    y0, y1 = _range(ys, y_unit_interval)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def px(x: float) -> float:
        return LEFT + (x - x0) / (x1 - x0) * plot_w

    def py(y: float) -> float:
        return TOP + plot_h - (y - y0) / (y1 - y0) * plot_h

    parts = []
    y_ticks = _ticks(y0, y1)
    step = y_ticks[1] - y_ticks[0] if len(y_ticks) > 1 else 1.0
    decimals = max(0, -math.floor(math.log10(step) + 1e-9))
    for tick in y_ticks:
        parts.append(f'<line x1="{LEFT}" x2="{LEFT + plot_w}" y1="{py(tick):.1f}" y2="{py(tick):.1f}" '
                     f'stroke="{LINE}"/>')
        parts.append(text(LEFT - 8, py(tick) + 4, f"{tick:.{decimals}f}", anchor="end", size=11,
                          fill=MUTED))
    x_ticks = xs if len(xs) <= 8 else _ticks(x0, x1)
    for tick in x_ticks:
        parts.append(text(px(tick), TOP + plot_h + 18, fmt(tick), anchor="middle", size=11, fill=MUTED))
    parts.append(f'<line x1="{LEFT}" x2="{LEFT + plot_w}" y1="{TOP + plot_h}" y2="{TOP + plot_h}" '
                 f'stroke="{MUTED}"/>')
    parts.append(text(LEFT + plot_w / 2, HEIGHT - 10, x_label, anchor="middle", weight="600"))
    parts.append(text(16, TOP + plot_h / 2, y_label, anchor="middle", weight="600",
                      extra=f'transform="rotate(-90 16 {TOP + plot_h / 2:.1f})"'))
    if len(valid) > 1:
        path = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in valid)
        parts.append(f'<polyline points="{path}" fill="none" stroke="{ACCENT}" stroke-width="2"/>')
    best = max(range(len(valid)), key=lambda k: ys[k])
    labelled = (set(range(len(valid))) if len(valid) <= MAX_LABELLED
                else {0, best, len(valid) - 1})
    for k, (x, y) in enumerate(valid):
        fill = f'fill="white" stroke="{ACCENT}" stroke-width="2"' if (x, y) in marked else f'fill="{ACCENT}"'
        parts.append(f'<circle class="gl-point" cx="{px(x):.1f}" cy="{py(y):.1f}" r="4" '
                     f'{fill}><title>{fmt(x)}: {fmt(y, digits)}{esc(note((x, y)))}</title></circle>')
        if k in labelled:
            parts.append(text(px(x), py(y) - 9, fmt(y, digits), anchor="middle", size=11,
                              extra='class="gl-value"'))
    if marked & set(valid):
        parts.append(f'<circle cx="{LEFT + plot_w - 8:.1f}" cy="{TOP - 12}" r="4" fill="white" stroke="{ACCENT}" '
                     'stroke-width="2"/>')
        parts.append(text(LEFT + plot_w - 16, TOP - 8, mark_label, anchor="end", size=11, fill=MUTED))
    desc = (f"{y_label} by {x_label.lower()}: "
            + "; ".join(f"{fmt(x)}: {fmt(y, digits)}{note((x, y))}" for x, y in valid) + ".")
    if len(valid) > 1:
        desc += (f" From {fmt(ys[0], digits)} to {fmt(ys[-1], digits)}; best {fmt(ys[best], digits)} "
                 f"at {fmt(xs[best])}.")
    return document(title, desc, "".join(parts), HEIGHT, kind="line")
