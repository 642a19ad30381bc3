"""The WCAG 2 contrast ratio, for tests that check colours as a reader sees them (written out
here, not taken from the chart code, so a wrong helper there cannot pass its own test)."""
from __future__ import annotations

import re


def rgb(colour: str) -> tuple[int, int, int]:
    """"#0b5cad", "#fff" or a computed style's "rgb(11, 92, 173)" as (r, g, b)."""
    if colour.startswith("rgb"):
        r, g, b = (int(float(x)) for x in re.findall(r"[\d.]+", colour)[:3])
        return r, g, b
    colour = colour.lstrip("#")
    if len(colour) == 3:
        colour = "".join(c * 2 for c in colour)
    return tuple(int(colour[i:i + 2], 16) for i in (0, 2, 4))


def _luminance(colour: str) -> float:
    channels = []
    for value in rgb(colour):
        c = value / 255
        channels.append(c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4)
    r, g, b = channels
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def wcag_contrast(a: str, b: str) -> float:
    light, dark = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)
