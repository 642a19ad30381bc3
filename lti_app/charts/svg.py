"""Shared SVG building blocks: the accessible document wrapper, text, number checks, no-data panel.

Ids inside a chart are derived from its content so two charts on one page never share an id
and the same input always yields the same markup (stable for tests and caching).
"""
from __future__ import annotations

import hashlib
import math
from html import escape

WIDTH = 600
FONT = 'font-family="system-ui, -apple-system, Segoe UI, Roboto, Helvetica, Arial, sans-serif"'
FG = "#1f2933"
MUTED = "#52606d"
LINE = "#d9e2ec"
ACCENT = "#0b5cad"
WARN = "#8a5a00"
BAND = "#e4e7eb"
NO_DATA = "No data yet"


def contrast(rgb1: tuple[int, int, int], rgb2: tuple[int, int, int]) -> float:
    """WCAG 2 contrast ratio of two sRGB colours (1 to 21)."""
    def luminance(rgb):
        lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in (v / 255 for v in rgb)]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]

    light, dark = sorted((luminance(rgb1), luminance(rgb2)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def esc(value) -> str:
    return escape(str(value), quote=True)


def finite(value) -> bool:
    """True for a real, finite number (bools and NaN/inf excluded)."""
    if isinstance(value, bool) or value is None:
        return False
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


def fmt(value: float, digits: int = 2) -> str:
    """Short number text: integers without decimals, others rounded."""
    number = float(value)
    if number.is_integer() and abs(number) < 1e15:
        return str(int(number))
    text = f"{number:.{digits}f}"
    return "0" if text in ("-0.00", "-0.0") else text


def pct(fraction: float) -> str:
    return f"{round(100 * float(fraction))}%"


def clip(label: str, limit: int = 20) -> str:
    """Shorten a label to fit its column; the full text stays in the chart's <desc>."""
    label = str(label)
    return label if len(label) <= limit else label[:limit - 1].rstrip() + "…"


def text(x: float, y: float, content, *, anchor: str = "start", size: int = 13,
         fill: str = FG, weight: str = "normal", extra: str = "") -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="{size}" '
            f'fill="{fill}" font-weight="{weight}"{" " + extra if extra else ""}>{esc(content)}</text>')


def rect(x: float, y: float, w: float, h: float, fill: str, extra: str = "") -> str:
    return (f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(0.0, w):.1f}" height="{max(0.0, h):.1f}" '
            f'fill="{fill}"{" " + extra if extra else ""}/>')


def document(title: str, desc: str, body: str, height: int, width: int = WIDTH,
             kind: str = "chart") -> str:
    """Wrap chart markup in an accessible, responsive <svg> element."""
    digest = hashlib.sha1(f"{kind}|{title}|{desc}|{body}".encode()).hexdigest()[:10]
    tid, did = f"gl-{kind}-{digest}-t", f"gl-{kind}-{digest}-d"
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" class="gl-chart gl-{kind}" '
        f'aria-labelledby="{tid} {did}" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" style="max-width:100%;height:auto" {FONT}>'
        f'<title id="{tid}">{esc(title)}</title><desc id="{did}">{esc(desc)}</desc>'
        f"{body}</svg>"
    )


def no_data(title: str, message: str = "", kind: str = "chart") -> str:
    """A quiet panel saying there is nothing to plot yet (used for empty/NaN input)."""
    height = 80
    detail = message or "Charts appear once there is something to measure."
    body = (rect(0.5, 0.5, WIDTH - 1, height - 1, "#fff", f'stroke="{LINE}" rx="6"')
            + text(WIDTH / 2, 34, NO_DATA, anchor="middle", size=15, weight="600",
                   extra='class="gl-no-data"')
            + text(WIDTH / 2, 56, detail, anchor="middle", size=12, fill=MUTED))
    return document(title, f"{NO_DATA}. {detail}", body, height, kind=kind)
