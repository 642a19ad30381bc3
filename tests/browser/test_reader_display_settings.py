"""Pages under the display settings low-vision readers choose instead of page zoom: Windows High
Contrast (forced colours), where a button drawn only by its background would be bare text, and the
browser's own font-size setting, which text sized in px ignores. At the default setting (16 px)
the pages keep the sizes they were drawn with.

The pages come from the Flask test client (tests.browser.served)."""
from __future__ import annotations

import pytest

from lti_app.models import Role
from tests.browser.served import BASE, open_page
from tests.coursework.helpers import login

pytestmark = pytest.mark.browser

# What each text measures at the browser's default font size (16 px): the sizes the pages were drawn with.
SIZES = "() => ['body', 'h1', 'h2', '.field-hint', '.who'].map(s => getComputedStyle(document.querySelector(s)).fontSize)"
DRAWN = ["15px", "22px", "18px", "13px", "13px"]


def _student_page(client, app, world, browser, **context):
    login(client, app, course_id=world.course_a, user_id=world.student2_a, role=Role.LEARNER,
          resource_link_id=world.link_a, platform_id=world.platform)
    page = open_page(browser, client, **context)
    return page


def test_buttons_keep_an_edge_in_forced_colours(app, client, world, browser):
    page = _student_page(client, app, world, browser, forced_colors="active")
    page.goto(f"{BASE}/coursework/a/{world.assignment_a}/essay")
    edge = page.get_by_role("button", name="Hand in").evaluate(
        "b => { const s = getComputedStyle(b); return [s.borderTopStyle, parseFloat(s.borderTopWidth)]; }")
    assert edge == ["solid", 1], f"'Hand in' has no edge in forced colours: {edge}"

    plain = _student_page(client, app, world, browser)   # normal colours: drawn as before, no edge
    plain.goto(f"{BASE}/coursework/a/{world.assignment_a}/essay")
    assert plain.get_by_role("button", name="Hand in").evaluate("b => getComputedStyle(b).borderTopStyle") == "none"


def test_text_follows_the_readers_font_size_setting(app, client, world, browser):
    page = _student_page(client, app, world, browser)
    page.goto(f"{BASE}/coursework/a/{world.assignment_a}/essay")
    assert page.evaluate(SIZES) == DRAWN

    page = _student_page(client, app, world, browser)
    cdp = page.context.new_cdp_session(page)
    cdp.send("Page.enable")
    cdp.send("Page.setFontSizes", {"fontSizes": {"standard": 24}})   # Chrome's Settings > Font size: "Very large"
    page.goto(f"{BASE}/coursework/a/{world.assignment_a}/essay")
    assert page.evaluate(SIZES) == [f"{float(px[:-2]) * 1.5:g}px" for px in DRAWN]
