"""Inline SVG charts for the teacher dashboard: pure functions returning markup strings.

No JavaScript and no chart library, so the dashboard renders inside an LMS iframe under a
strict CSP. Every chart is an accessible image (`role="img"`, `<title>`, `<desc>` with the
numbers in words) and prints its values as text, so nothing is conveyed by colour alone.
Inputs with nothing to show (empty, all-NaN) render a "no data yet" panel instead of raising.
"""
from lti_app.charts.bars import agreement_bars, bar_chart
from lti_app.charts.confusion import confusion_matrix
from lti_app.charts.line import line_chart
from lti_app.charts.progress import progress_bar

__all__ = ["agreement_bars", "bar_chart", "confusion_matrix", "line_chart", "progress_bar"]
