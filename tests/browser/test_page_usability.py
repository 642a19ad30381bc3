"""What a reviewer found with a real browser, checked in one: the dashboard's live region speaks
only when training moves, and polling stops when nothing trains; wide tables and charts scroll in
their own region in a 360 px iframe; focus rings and field edges reach 3:1; typed work is not lost
without a warning; the essay box shows its limits and a calm word count, and an error takes focus.

The pages come from the Flask test client (tests.browser.served): no LMS, no server thread."""
from __future__ import annotations

import time

import pytest

from lti_app.extensions import db
from lti_app.models import (AiProposal, Grade, GradeSource, ModelVersion, Role, Submission, SubmissionStatus,
                            TrainingRun)
from tests.browser.served import BASE, open_page
from tests.contrast import rgb, wcag_contrast
from tests.coursework.helpers import login

pytestmark = pytest.mark.browser

POLL_S = 2   # the dashboard's polling interval


def _teacher(client, app, world):
    login(client, app, course_id=world.course_a, user_id=world.teacher_a, role=Role.INSTRUCTOR,
          platform_id=world.platform)


def _student(client, app, world, who="student2_a"):
    login(client, app, course_id=world.course_a, user_id=getattr(world, who), role=Role.LEARNER,
          resource_link_id=world.link_a, platform_id=world.platform)


def _with(app, change) -> None:
    with app.app_context():
        change()
        db.session.commit()


def _run(app, world, **fields) -> int:
    with app.app_context():
        run = TrainingRun(assignment_id=world.assignment_a, **fields)
        db.session.add(run)
        db.session.commit()
        return run.id


def _update_run(app, run_id: int, **fields) -> None:
    def change():
        run = db.session.get(TrainingRun, run_id)
        for k, v in fields.items():
            setattr(run, k, v)
    _with(app, change)


# Counts changes (text, nodes, attributes) inside any aria-live region from now on.
WATCH_LIVE = """() => {
  window.liveChanges = 0;
  new MutationObserver(function (records) {
    records.forEach(function (r) {
      var el = r.target.nodeType === 1 ? r.target : r.target.parentElement;
      if (el && el.closest('[aria-live]')) window.liveChanges += 1;
    });
  }).observe(document.body, {subtree: true, childList: true, characterData: true, attributes: true});
}"""


def test_training_progress_speaks_only_when_it_moves_and_polling_stops(app, client, world, browser):
    run_id = _run(app, world, status="running", phase="fine-tune", step=1, total_steps=10)
    _teacher(client, app, world)
    polls: list[str] = []
    page = open_page(browser, client, requests=polls)
    page.goto(f"{BASE}/dashboard/a/{world.assignment_a}")
    page.evaluate(WATCH_LIVE)
    polls.clear()
    page.wait_for_timeout(POLL_S * 2500)
    assert polls.count(f"/dashboard/a/{world.assignment_a}/training.json") >= 2, polls
    assert page.evaluate("window.liveChanges") == 0, "the live region changed while nothing did"
    assert page.evaluate("document.querySelector('#training svg').closest('[aria-live]')") is None, \
        "the progress image is inside the live region"
    live = page.locator("[aria-live=polite]", has_text="Training")
    assert live.inner_text() == "Training: trying a larger model: 10% complete."

    _update_run(app, run_id, step=5, eta_seconds=30.0)
    page.wait_for_function("document.getElementById('training-status').textContent.includes('50%')",
                           timeout=POLL_S * 3000)
    assert page.evaluate("window.liveChanges") == 1, "one change, one announcement"
    assert "about 31 s left" in page.locator("#training svg").inner_html(), "the image still shows the ETA"

    # The run ends: the page reloads once (new versions, new report), then stops asking.
    with page.expect_navigation():
        _update_run(app, run_id, status="done", step=10)
    polls.clear()
    page.wait_for_timeout(POLL_S * 1500)
    assert page.locator("#training-status").inner_text() == "Training finished."
    assert f"/dashboard/a/{world.assignment_a}/training.json" not in polls, polls


def test_a_requested_training_is_watched_until_its_run_starts(app, client, world):
    """ "Train now" or an import queue a training the worker has not started yet: the page keeps
    polling for it (and only then), for a bounded time."""
    from lti_app.events import record_event

    _teacher(client, app, world)
    status = f"/dashboard/a/{world.assignment_a}/training.json"
    assert client.get(status).get_json()["requested"] is False
    _with(app, lambda: record_event("training.due", {"assignment_id": world.assignment_b, "reason": "manual"}))
    assert client.get(status).get_json()["requested"] is False, "another assignment's request"
    _with(app, lambda: record_event("training.due", {"assignment_id": world.assignment_a, "reason": "manual"}))
    assert client.get(status).get_json()["requested"] is True
    time.sleep(0.01)
    run_id = _run(app, world, status="running", phase="data", step=0, total_steps=4)
    assert client.get(status).get_json()["requested"] is False
    _update_run(app, run_id, status="done")
    assert client.get(status).get_json()["requested"] is False, "the request was answered by that run"


def test_train_now_comes_back_when_a_request_is_answered_without_a_run(app, client, world, browser):
    """A "Train now" the worker finds not due starts no run: the button used to stay off (with "a
    training is under way") until the teacher reloaded. An import's request never turns it off: a
    model in service may well find it not due."""
    from lti_app.events import record_event
    from lti_app.models import Assignment, ProcessedMessage

    def graded():   # training needs 15 graded essays, whatever the assignment's own minimum says
        db.session.get(Assignment, world.assignment_a).min_graded = 1
        for i in range(15):
            sub = Submission(assignment_id=world.assignment_a, user_id=None, text=f"Essay {i}. " * 20,
                             word_count=40, status=SubmissionStatus.GRADED)
            db.session.add(sub)
            db.session.flush()
            db.session.add(Grade(submission_id=sub.id, score=3, source=GradeSource.IMPORT, score_min=1, score_max=6))
    _with(app, graded)
    _teacher(client, app, world)
    imported = []
    _with(app, lambda: imported.append(record_event("training.due", {"assignment_id": world.assignment_a,
                                                                      "reason": "import"}).event_id))
    page = open_page(browser, client)
    page.goto(f"{BASE}/dashboard/a/{world.assignment_a}")
    assert page.locator("#train-now").is_enabled() and page.locator("#train-busy").count() == 0
    _with(app, lambda: db.session.add(ProcessedMessage(message_id=imported[0], queue="training")))

    asked = []
    _with(app, lambda: asked.append(record_event("training.due", {"assignment_id": world.assignment_a,
                                                                   "reason": "manual"}).event_id))
    page.goto(f"{BASE}/dashboard/a/{world.assignment_a}")
    assert page.locator("#train-now").is_disabled()
    assert page.locator("#train-busy").inner_text().startswith("A training was requested")
    page.evaluate("window.notReloaded = true")
    _with(app, lambda: db.session.add(ProcessedMessage(message_id=asked[0], queue="training")))
    page.wait_for_function("!document.getElementById('train-now').disabled", timeout=POLL_S * 3000)
    assert page.evaluate("window.notReloaded") is True, "nothing changed that needs a reload"
    assert page.locator("#train-busy").count() == 0
    assert page.locator("#train-now").get_attribute("aria-disabled") is None


def _busy_course(app, world) -> None:
    """Model versions with a report, a graded essay, proposals (one unusual), for the wide pages."""
    def change():
        metrics = {"n": 40, "qwk": 0.74, "exact": 0.65, "adjacent": 0.95, "smd": 0.08, "scale": [1, 6],
                   "confusion": [[3, 1, 0, 0, 0, 0], [1, 4, 2, 0, 0, 0], [0, 2, 6, 2, 0, 0],
                                 [0, 0, 2, 7, 1, 0], [0, 0, 0, 1, 4, 1], [0, 0, 0, 0, 1, 2]],
                   "smd_by_group": {"ELL": {"n": 12, "smd": -0.14, "small": False}}}
        for v in (1, 2, 3):
            db.session.add(ModelVersion(assignment_id=world.assignment_a, version=v, status="retired",
                                        approach="frozen-ridge", path=f"/nonexistent/v{v}", n_train=30 * v,
                                        metrics={"held_out": metrics, "n_examples": 30 * v},
                                        gate={"promote": True, "reasons": [], "thresholds": {}}))
        db.session.add(Grade(submission_id=world.essay_a, score=3, source=GradeSource.AI_AUTO, score_min=1,
                             score_max=6, comment="Clear."))
        other = Submission(assignment_id=world.assignment_a, user_id=world.student2_a, text="Short essay.",
                           word_count=2, status=SubmissionStatus.SUBMITTED)
        db.session.add(other)
        db.session.flush()
        for sub, unusual in ((world.essay_a, []), (other.id, ["much shorter than the essays the model learned from"])):
            db.session.add(AiProposal(submission_id=sub, score=4, confidence=0.42, trait_scores={},
                                      feedback="Your argument is clear. Add one piece of evidence. " * 3,
                                      status="pending", unusual=unusual))
    _with(app, change)


FITS = """() => ({page: document.documentElement.scrollWidth, view: document.documentElement.clientWidth})"""
# Every wide table must sit in a focusable, named region that scrolls sideways.
REGIONS = """sel => Array.from(document.querySelectorAll(sel)).map(function (t) {
  var r = t.closest('[role=region]');
  return r && {label: r.getAttribute('aria-label'), tab: r.tabIndex, overflow: getComputedStyle(r).overflowX,
               scrolls: r.scrollWidth > r.clientWidth};
})"""
# The smallest text any chart draws, in CSS pixels on screen.
SMALLEST_CHART_TEXT = """() => Math.min.apply(null, Array.from(document.querySelectorAll('svg.gl-chart text')).map(
  function (t) { return parseFloat(t.getAttribute('font-size')) * t.ownerSVGElement.getScreenCTM().a; }))"""


@pytest.mark.parametrize("width", [360, 320])
def test_wide_tables_and_charts_scroll_in_a_narrow_iframe(app, client, world, browser, width):
    _busy_course(app, world)
    _teacher(client, app, world)
    page = open_page(browser, client, width=width, height=800)
    pages = {f"/coursework/a/{world.assignment_a}": "table#essays",
             f"/review/a/{world.assignment_a}": "table#queue",
             f"/dashboard/a/{world.assignment_a}": "table#versions",
             "/coursework/course": "table#assignments"}
    for path, table in pages.items():
        page.goto(BASE + path)
        assert page.evaluate(FITS)["page"] <= page.evaluate(FITS)["view"], f"{path} is wider than the iframe"
        [region] = page.evaluate(REGIONS, table)
        assert region and region["label"] and region["tab"] == 0 and region["overflow"] == "auto", (path, region)
    # The queue's last column is reachable: keyboard focus scrolls its region to the link.
    page.goto(f"{BASE}/review/a/{world.assignment_a}")
    link = page.get_by_role("link", name="Review Student1 A")
    link.focus()
    box, view = link.bounding_box(), page.viewport_size
    assert 0 <= box["x"] and box["x"] + box["width"] <= view["width"], box
    page.goto(f"{BASE}/dashboard/a/{world.assignment_a}")
    assert page.evaluate(SMALLEST_CHART_TEXT) >= 9, "chart text shrinks below legibility"


def test_on_a_phone_the_queue_shows_each_proposal_without_sideways_scrolling(app, client, world, browser):
    """At 375 px the queue showed the checkboxes and the bulk-approve button, but each proposal's
    feedback and Review link only after a sideways scroll nothing hinted at."""
    _busy_course(app, world)
    _teacher(client, app, world)
    page = open_page(browser, client, width=375, height=800)
    page.goto(f"{BASE}/review/a/{world.assignment_a}")
    row = page.locator("tr", has=page.get_by_role("link", name="Review Student1 A"))
    for part in (row.get_by_role("link", name="Review Student1 A"), row.get_by_text("Your argument is clear")):
        box = part.bounding_box()
        assert 0 <= box["x"] and box["x"] + box["width"] <= 375, box
    assert page.evaluate("document.querySelector('#queue').closest('[role=region]').scrollLeft") == 0


def _outline_of_focused(page) -> dict:
    return page.evaluate("""() => { var s = getComputedStyle(document.activeElement);
      return {id: document.activeElement.id, style: s.outlineStyle, width: parseFloat(s.outlineWidth),
              colour: s.outlineColor}; }""")


def test_focus_ring_field_edges_and_locked_fields(app, client, world, browser):
    """WCAG 1.4.11: the focus ring and a field's edge need 3:1 against the white page; a locked
    field (the scale, once an essay is graded) looks read-only."""
    _with(app, lambda: db.session.add(Grade(submission_id=world.essay_a, score=4, source=GradeSource.TEACHER,
                                            score_min=1, score_max=6)))
    _teacher(client, app, world)
    page = open_page(browser, client)
    page.goto(f"{BASE}/coursework/a/{world.assignment_a}/edit")
    page.locator("#prompt").focus()
    page.keyboard.press("Tab")   # keyboard focus, as a keyboard user gets it
    ring = _outline_of_focused(page)
    assert ring["style"] == "solid" and ring["width"] >= 2, ring
    assert wcag_contrast(ring["colour"], "#fff") >= 3, ring
    page.keyboard.press("Tab")
    assert _outline_of_focused(page)["colour"] == ring["colour"], "every control gets the same ring"
    border = page.evaluate("getComputedStyle(document.getElementById('title')).borderTopColor")
    assert wcag_contrast(border, "#fff") >= 3, border
    locked = page.evaluate("""() => { var f = document.getElementById('score_min');
      return {readonly: f.readOnly, bg: getComputedStyle(f).backgroundColor,
              border: getComputedStyle(f).borderTopColor}; }""")
    assert locked["readonly"] and rgb(locked["bg"]) != (255, 255, 255), locked
    assert wcag_contrast(locked["border"], locked["bg"]) >= 3, locked


def _leaving_asks(page) -> bool:
    """Whether closing the page now brings up the browser's "leave this page?" question (which
    is accepted, so the page closes either way). A click first: browsers ask only on a page the
    person has used."""
    asked = []
    page.on("dialog", lambda dialog: (asked.append(dialog.type), dialog.accept()))
    page.locator("h1").click()
    with page.expect_event("close", timeout=5000):
        page.close(run_before_unload=True)
    return "beforeunload" in asked


def test_typed_work_asks_before_the_page_is_left(app, client, world, browser):
    _with(app, lambda: db.session.add(Grade(submission_id=world.essay_a, score=4, comment="Good.",
                                            source=GradeSource.TEACHER, score_min=1, score_max=6)))
    _student(client, app, world)
    essay = f"{BASE}/coursework/a/{world.assignment_a}/essay"
    page = open_page(browser, client)
    page.goto(essay)
    assert not _leaving_asks(page), "nothing typed: leaving is silent"
    page = open_page(browser, client)
    page.goto(essay)
    page.locator("#text").press_sequentially("My essay.")
    assert _leaving_asks(page), "typed essay, no question"
    # Handing in is not leaving it.
    page = open_page(browser, client)
    asked = []
    page.on("dialog", lambda dialog: (asked.append(dialog.type), dialog.accept()))
    page.goto(essay)
    page.locator("#text").press_sequentially("Cars should be limited in city centres.")
    page.get_by_role("button", name="Hand in").click()
    page.get_by_text("Your essay was handed in").wait_for()
    assert asked == []

    teacher = app.test_client()
    _teacher(teacher, app, world)
    grading = f"{BASE}/coursework/a/{world.assignment_a}/essays/{world.essay_a}"
    page = open_page(browser, teacher)
    page.goto(grading)
    assert not _leaving_asks(page)
    page = open_page(browser, teacher)
    page.goto(grading)
    page.locator("#comment").press_sequentially(" Add a source.")
    assert _leaving_asks(page), "an unsaved comment, no question"


def test_essay_box_shows_limits_and_a_calm_count_and_an_error_takes_focus(app, client, world, browser):
    app.config.update(GRADELOOP_MAX_ESSAY_CHARS=60, GRADELOOP_MAX_UPLOAD_BYTES=3_500_000)
    _student(client, app, world)
    page = open_page(browser, client)
    page.goto(f"{BASE}/coursework/a/{world.assignment_a}/essay")
    assert page.locator("#text-limit").inner_text() == "Up to 60 characters."
    assert page.locator("#file-limit").inner_text() == "Up to 3.5 MB."
    assert "text-limit" in page.locator("#text").get_attribute("aria-describedby")
    assert page.locator("#file").get_attribute("aria-describedby") == "file-limit"
    counter = page.locator("#text-count")
    assert counter.get_attribute("aria-live") == "polite" and counter.inner_text() == "0 words, 0 characters"
    page.evaluate(WATCH_LIVE)
    page.locator("#text").press_sequentially("One", delay=60)
    page.wait_for_function("document.getElementById('text-count').textContent === '1 word, 3 characters'")
    page.locator("#text").press_sequentially(" two three", delay=60)
    page.wait_for_function("document.getElementById('text-count').textContent === '3 words, 13 characters'")
    assert page.evaluate("window.liveChanges") <= 2 * 2, "the count changed on every keystroke"

    page.locator("#text").fill("x" * 70)
    page.wait_for_function("document.getElementById('text-count').textContent.includes('10 over the limit')")
    page.get_by_role("button", name="Hand in").click()
    page.locator("#submit-error").wait_for()
    assert "the limit is 60" in page.locator("#submit-error").inner_text()
    assert page.evaluate("document.activeElement.id") == "submit-error"
    field = page.locator("#text")
    assert field.get_attribute("aria-invalid") == "true"
    assert field.get_attribute("aria-describedby").split()[0] == "submit-error"
    assert field.input_value() == "x" * 70


def test_returning_every_graded_essay_asks_first(app, client, world, browser):
    """One Enter on "Return all" used to return every graded essay to its student at once."""
    def graded():
        db.session.add(Grade(submission_id=world.essay_a, score=4, comment="Good.", source=GradeSource.TEACHER,
                             score_min=1, score_max=6))
        db.session.get(Submission, world.essay_a).status = SubmissionStatus.GRADED

    _with(app, graded)
    _teacher(client, app, world)
    page = open_page(browser, client)
    answers = ["dismiss", "accept"]
    asked = []

    def answer(dialog):
        asked.append(dialog.message)
        getattr(dialog, answers.pop(0))()

    page.on("dialog", answer)
    page.goto(f"{BASE}/coursework/a/{world.assignment_a}")
    page.locator("#revision summary").click()
    page.locator("#return-all").click()
    page.wait_for_timeout(500)
    assert asked and "for revision?" in asked[0]
    with app.app_context():
        assert db.session.get(Submission, world.essay_a).status != SubmissionStatus.RETURNED, "cancelled: nothing sent"
    page.locator("#return-all").click()   # the cancelled question left the form ready
    page.locator("#take-back-all").wait_for(state="attached")
    with app.app_context():
        db.session.expire_all()
        assert db.session.get(Submission, world.essay_a).status == SubmissionStatus.RETURNED


def test_a_framed_page_asks_the_lms_to_fit_its_frame(app, client, world, browser):
    """Canvas sizes the tool's frame on `lti.frameResize`: without it the grading page's Save
    button sat below a 628 px frame, scrolled inside the frame as well as the page."""
    _with(app, lambda: db.session.add(Grade(submission_id=world.essay_a, score=4, comment="Good.",
                                            source=GradeSource.TEACHER, score_min=1, score_max=6)))
    _teacher(client, app, world)
    page = open_page(browser, client)
    page.goto(f"{BASE}/healthz")   # any page of the tool's origin to host the test's LMS page
    page.evaluate("""src => {
        window.asked = [];
        window.addEventListener("message", e => window.asked.push(e.data));
        document.body.innerHTML = '<iframe id="tool" style="width:900px;height:300px"></iframe>';
        document.getElementById("tool").src = src;
    }""", f"{BASE}/coursework/a/{world.assignment_a}/essays/{world.essay_a}")
    page.wait_for_function("window.asked.some(m => m && m.subject === 'lti.frameResize')")
    heights = page.evaluate("window.asked.filter(m => m.subject === 'lti.frameResize').map(m => m.height)")
    assert heights and max(heights) > 300, heights   # the whole grading page, not the frame it had
