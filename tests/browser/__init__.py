"""Real-browser tests (Chromium through playwright, marker `browser`)."""
