"""Training progress as a labelled SVG bar (fraction done, with the percentage printed)."""
from __future__ import annotations

from lti_app.charts.svg import ACCENT, BAND, MUTED, WIDTH, document, finite, no_data, pct, rect, text


def progress_bar(fraction: float, label: str, *, title: str = "Progress") -> str:
    """`fraction` in [0, 1] (values outside are clamped: a progress report can overshoot)."""
    if not finite(fraction):
        return no_data(f"{title}: {label}", "Progress is reported once training starts.",
                       kind="progress")
    done = min(1.0, max(0.0, float(fraction)))
    share = pct(done)
    left, bar_w, top = 8, WIDTH - 16 - 56, 30
    body = (text(left, 18, label, weight="600")
            + rect(left, top, bar_w, 14, BAND, 'rx="7"')
            + rect(left, top, bar_w * done, 14, ACCENT, 'rx="7" class="gl-progress-done"')
            + text(WIDTH - 8, top + 12, share, anchor="end", weight="600")
            + text(left, top + 32, f"{share} complete", size=11, fill=MUTED))
    return document(f"{title}: {label}", f"{label}: {share} complete.", body, 70, kind="progress")
