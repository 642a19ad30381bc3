"""Real-browser tests (Chromium through playwright, marker `browser`), and what they share:
Chromium's flags and the axe-core accessibility audit."""
import functools
from pathlib import Path


# Chromium flags shared by every browser test. Site isolation is off so that Playwright keeps
# track of the cross-site LMS iframe when it swaps renderer processes mid-launch
# (127.0.0.1 -> localhost -> 127.0.0.1); cookie and SameSite rules do not depend on the process
# model, so what the launch exercises is unchanged.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-site-isolation-trials",
                 "--disable-features=IsolateOrigins,site-per-process"]

WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


@functools.cache
def _axe_js() -> str:
    import axe_playwright_python   # only for the axe-core it ships

    return (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text(encoding="utf-8")


def axe_violations(frame) -> list[str]:
    """WCAG 2.1 AA violations on the document of `frame` (a Playwright Frame or Page). A launch
    lands, then redirects once more (the token leaves the address bar): audit the page it settles on."""
    for attempt in range(3):
        frame.wait_for_load_state("load")
        try:
            frame.add_script_tag(content=_axe_js())
            result = frame.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})",
                                    WCAG_21_AA)
            break
        except Exception as exc:   # the document went away under the script: a navigation
            # ... while the script was added, or between adding it and running it (the next
            # document has no axe: seen under load in a full run).
            gone = "context was destroyed" in str(exc) or "axe is not defined" in str(exc)
            if not gone or attempt == 2:
                raise
    return [f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:4]}"
            for v in result["violations"]]
