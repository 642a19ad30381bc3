"""In a real browser: a time the server prints in UTC reads in the reader's own time zone, named so
it is never ambiguous (the UTC words stay in its title); a form refused by the server's checks
opens on its error summary, whose links put the cursor in the field they name.

The pages come from the Flask test client (tests.browser.served): no LMS, no server thread."""
from __future__ import annotations

from datetime import datetime

import pytest

from lti_app.extensions import db
from lti_app.models import Grade, GradeSource, Role, Submission, SubmissionStatus
from tests.browser.served import BASE, open_page
from tests.coursework.helpers import login

pytestmark = pytest.mark.browser


def _teacher(client, app, world) -> None:
    login(client, app, course_id=world.course_a, user_id=world.teacher_a, role=Role.INSTRUCTOR,
          platform_id=world.platform)


def _shown(locator) -> str:
    # Newer ICU puts a narrow no-break space before "PM": the reader sees a space.
    return " ".join(locator.inner_text().replace("\u202f", " ").split())


@pytest.mark.parametrize("zone, local", [("America/Los_Angeles", "Nov 27, 2026, 7:24 PM PST"),
                                         ("Asia/Kolkata", "Nov 28, 2026, 8:54 AM GMT+5:30")])
def test_a_hand_in_time_reads_in_the_readers_own_zone(app, client, world, browser, zone, local):
    with app.app_context():
        db.session.get(Submission, world.essay_a).submitted_at = datetime(2026, 11, 28, 3, 24)
        db.session.commit()
    _teacher(client, app, world)
    page = open_page(browser, client, timezone_id=zone, locale="en-US")
    for url in (f"/coursework/a/{world.assignment_a}", f"/coursework/a/{world.assignment_a}/essays/{world.essay_a}"):
        page.goto(BASE + url)
        handed_in = page.locator('time[datetime="2026-11-28T03:24:00Z"]')
        assert _shown(handed_in) == local, url
        assert handed_in.get_attribute("title") == "2026-11-28 03:24 UTC"


def test_the_error_summary_takes_focus_and_its_links_reach_the_fields(app, client, world, browser):
    _teacher(client, app, world)
    page = open_page(browser, client, height=420)   # a short frame: the page scrolls to a field
    page.goto(f"{BASE}/coursework/a/{world.assignment_a}/essays/{world.essay_a}")
    page.locator("#score").fill("9")
    page.get_by_label("Cohesion (1–5)").fill("7")
    page.get_by_role("button", name="Save grade").click()
    summary = page.locator("#error-summary")
    summary.wait_for()
    assert page.evaluate("document.activeElement.id") == "error-summary"
    assert summary.get_attribute("role") == "alert"
    links = summary.get_by_role("link")
    assert [_shown(links.nth(i)) for i in range(links.count())] == [
        "Score must be a number from 1 to 6", "Cohesion must be a number from 1 to 5"]
    page.keyboard.press("Tab")   # from the summary to its first link
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "score"
    links.nth(1).click()
    focused = page.evaluate("[document.activeElement.id, document.activeElement.getAttribute('aria-invalid')]")
    assert focused == ["trait-cohesion", "true"]
    # Scrolled to, not to the field's top edge: its label, the question, is in view with it.
    assert page.evaluate("document.querySelector('label[for=\"trait-cohesion\"]').getBoundingClientRect().top") >= 0
    assert page.locator("#trait-cohesion").input_value() == "7", "what was typed is still there"


def test_a_file_over_the_upload_limit_is_refused_beside_the_field_before_it_is_sent(app, client, world, browser):
    """A 3 MB Word file (a photo in it) went to the server, which could only answer a 413 page in
    place of the form. The page now refuses it as it is chosen and keeps what was typed; a page
    that sends one anyway (no script) gets a 413 page whose button leads back to the form."""
    login(client, app, course_id=world.course_a, user_id=world.student2_a, role=Role.LEARNER,
          resource_link_id=world.link_a, platform_id=world.platform)
    sent = []
    page = open_page(browser, client, requests=sent)
    url = f"{BASE}/coursework/a/{world.assignment_a}/essay"
    page.goto(url)
    page.get_by_label("Paste your essay").fill("My essay so far.")
    big = {"name": "essay.docx", "mimeType": "application/octet-stream",
           "buffer": b"x" * (app.config["MAX_CONTENT_LENGTH"] + 1)}   # past what the server reads
    field = page.locator("#file")
    field.set_input_files(big)
    note = page.locator("#file-too-large")
    note.wait_for()
    assert note.get_attribute("role") == "alert"   # announced as it appears, not only once focus moves
    assert "Word file with pictures" in note.inner_text() and field.get_attribute("aria-invalid") == "true"
    assert "file-too-large" in field.get_attribute("aria-describedby").split()
    assert page.evaluate("document.getElementById('file').files.length") == 0
    field.set_input_files({"name": "essay.txt", "mimeType": "text/plain", "buffer": b"A small essay."})
    assert note.is_hidden() and field.get_attribute("aria-invalid") is None
    assert page.get_by_label("Paste your essay").input_value() == "My essay so far."
    assert all(path.endswith("/essay") or "/static/" in path or "keep-alive" in path for path in sent)

    # Past the page's check (a limit the page was drawn with before it was lowered), the server
    # refuses it, and the refusal leads back to the form.
    field.evaluate("el => el.setAttribute('data-max-bytes', '999999999')")
    field.set_input_files(big)
    page.get_by_role("button", name="Hand in").click()
    page.get_by_role("heading", name="The upload is too large").wait_for()
    assert "paste the essay's text into the box instead" in page.locator(".error-message").inner_text()
    page.get_by_role("button", name="Back to the form").click()
    page.get_by_label("Paste your essay").wait_for()
    with app.app_context():
        assert db.session.scalar(db.select(Submission).filter_by(user_id=world.student2_a)) is None


def _hand_in(app, client, world, browser):
    """Student 2 hands in through the page; returns the page and the URL it landed on, which
    carries the one-time "handed in" notice (coursework/notices.py). The page's clock is Playwright's,
    so the poller's 15 s wait (gradeloop.js pollState) passes when the test says."""
    login(client, app, course_id=world.course_a, user_id=world.student2_a, role=Role.LEARNER,
          resource_link_id=world.link_a, platform_id=world.platform)
    page = open_page(browser, client)
    page.clock.install()
    page.goto(f"{BASE}/coursework/a/{world.assignment_a}/essay")
    page.get_by_label("Paste your essay").fill("Cars should be limited in city centres.")
    with page.expect_response(lambda r: "notice=" in r.url) as landed:
        page.get_by_role("button", name="Hand in").click()
    page.get_by_text("Your essay was handed in.").wait_for()
    # Shown once, then dropped from the address (gradeloop.js forgetNotice): a reload is silent.
    page.wait_for_function("!location.search.includes('notice=')")
    return page, landed.value.url


def _graded(app, world) -> None:
    with app.app_context():
        essay = db.session.scalar(db.select(Submission).filter_by(user_id=world.student2_a))
        db.session.add(Grade(submission_id=essay.id, score=4, comment="Clear.", source=GradeSource.TEACHER,
                             score_min=1, score_max=6, grader_id=world.teacher_a))
        essay.status = SubmissionStatus.GRADED
        db.session.commit()


def test_a_grade_arriving_is_announced_and_the_page_stays_where_the_reader_is(app, client, world, browser):
    """The poller used to reload the page about 15 s after the grade came: a screen-reader user
    reading their essay was moved to the top of a new page without warning (WCAG 3.2.5). The news
    is announced in the live region with a link, and the page stays until the student follows it;
    the page shown then does not repeat the one-time "handed in" notice."""
    page, _ = _hand_in(app, client, world, browser)
    page.reload()
    page.locator("#text").wait_for()
    assert page.get_by_text("Your essay was handed in.").count() == 0
    loads = []
    page.on("framenavigated", lambda frame: loads.append(frame.url))
    page.evaluate("window.stillHere = true")
    _graded(app, world)
    page.clock.fast_forward(16_000)
    region = page.locator("#status-change")
    link = region.get_by_role("link", name="Show my feedback")
    link.wait_for()
    assert "Your essay has been graded." in region.inner_text()
    assert "reloads this page" not in region.inner_text()   # nothing typed: nothing to lose
    page.clock.fast_forward(120_000)   # and it stays: no reload, now or later
    assert page.evaluate("window.stillHere === true") and loads == []
    assert page.locator("#score").count() == 0
    link.click()
    page.locator("#score").wait_for()
    assert "notice=" not in page.url
    assert page.get_by_text("Your essay was handed in.").count() == 0


def test_news_for_a_student_typing_is_announced_in_a_live_region_there_from_the_start(app, client, world, browser):
    """A screen reader announces a live region's change, not a region inserted (or shown) already
    filled: the notice's region is in the page, empty, from the start, and the poller fills it."""
    _, url = _hand_in(app, client, world, browser)
    page = open_page(browser, client)   # the page opened again to type a new version
    page.clock.install()
    page.goto(url)
    region = page.locator("#status-change")
    assert region.get_attribute("role") == "status" and region.get_attribute("aria-live") == "polite"
    assert region.get_attribute("hidden") is None and region.evaluate("el => el.textContent.trim()") == ""
    page.locator("#text").fill("A second version, not handed in yet.")
    _graded(app, world)
    page.clock.fast_forward(16_000)
    region.get_by_role("link", name="Show my feedback").wait_for()
    assert "Your essay has been graded." in region.inner_text()
    assert "reloads this page: copy your unsaved text first" in region.inner_text()
    assert "notice=" not in region.get_by_role("link", name="Show my feedback").get_attribute("href")
    assert page.locator("#text").input_value() == "A second version, not handed in yet."
