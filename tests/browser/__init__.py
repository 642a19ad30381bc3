"""Real-browser tests (Chromium through playwright, marker `browser`)."""


# Chromium flags shared by every browser test. Site isolation is off so that Playwright keeps
# track of the cross-site LMS iframe when it swaps renderer processes mid-launch
# (127.0.0.1 -> localhost -> 127.0.0.1); cookie and SameSite rules do not depend on the process
# model, so what the launch exercises is unchanged.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-site-isolation-trials",
                 "--disable-features=IsolateOrigins,site-per-process"]
