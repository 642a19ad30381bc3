"""The blind check (`lti_app/review/blind.py`) as a teacher meets it in a real Chromium: a queue with
one blind and one ordinary proposal, where the blind row shows nothing of its proposal and "Approve
the ticked proposals" passes it by; its grading page hides the score until the teacher's grade is
saved, then shows what Gradeloop proposed; all of it by keyboard alone, at phone and desktop widths,
and without WCAG 2.1 AA violations (axe-core). Screenshots: test-output/blind-*.png. The essay list
says a blind essay's proposal waits without its score.

The pages come from the Flask test client (tests.browser.served): no LMS, no server thread."""
from __future__ import annotations

from pathlib import Path

import pytest

from lti_app.extensions import db
from lti_app.models import AiProposal, Grade, Role, Submission, User
from tests.browser import axe_violations
from tests.browser.served import BASE, open_page
from tests.coursework.helpers import login
from tests.review.test_blind_check import FEEDBACK, _essay, _propose, _version

pytestmark = pytest.mark.browser

SHOTS = Path(__file__).resolve().parents[2] / "test-output"
PHONE, DESKTOP = 390, 1100


def _named(app, sub_id: int, name: str) -> None:
    with app.app_context():
        db.session.get(User, db.session.get(Submission, sub_id).user_id).name = name
        db.session.commit()


def _queue(app, world):
    """Assignment A's queue: Ada's ordinary proposal and Blair's blind one, both 5 of 6 at 95%."""
    version = _version(app, world)
    shown, hidden = _essay(app, world, blind_one=False), _essay(app, world, blind_one=True)
    _named(app, shown, "Ada Lovelace")
    _named(app, hidden, "Blair Waldorf")
    return shown, hidden, _propose(app, shown, version), _propose(app, hidden, version)


def _look(page, phone, name: str) -> None:
    """Screenshots of the page at desktop width and, opened again, at a phone's, where it must not
    scroll sideways (the queue's rows stack as cards)."""
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"blind-{name}-desktop.png"), full_page=True)
    phone.goto(page.url)
    phone.screenshot(path=str(SHOTS / f"blind-{name}-phone.png"), full_page=True)
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), f"{name} scrolls sideways"


def test_a_teacher_grades_a_blind_essay_before_seeing_its_proposal(app, client, world, browser):
    shown, hidden, shown_p, hidden_p = _queue(app, world)
    login(client, app, course_id=world.course_a, user_id=world.teacher_a, role=Role.INSTRUCTOR,
          platform_id=world.platform)
    queue_url = f"{BASE}/review/a/{world.assignment_a}"
    page, phone = open_page(browser, client, width=DESKTOP), open_page(browser, client, width=PHONE, height=844)
    page.goto(queue_url)
    row = page.locator(f'tr[data-proposal="{hidden_p}"]')
    assert row.locator("input").count() == 0, "a blind row has no checkbox"
    said = " ".join(row.inner_text().split())
    assert "Grade this one yourself first" in said
    assert "5 of 6" not in said and "95%" not in said and FEEDBACK[:20] not in said, said
    assert FEEDBACK[:20] in page.locator(f'tr[data-proposal="{shown_p}"]').inner_text()
    assert axe_violations(page) == []
    _look(page, phone, "queue")

    for box in page.locator('input[name="proposal"]').all():
        box.check()
    page.get_by_role("button", name="Approve the ticked proposals as proposed").click()
    # The blind row had no box to tick, so the notice counts Ada's alone; Blair's row stays and says why.
    assert " ".join(page.locator(".notice").first.inner_text().split()) == "1 proposal approved."
    assert page.locator(f'tr[data-proposal="{shown_p}"]').count() == 0
    assert "Grade this one yourself first" in page.locator(f'tr[data-proposal="{hidden_p}"]').inner_text()
    with app.app_context():
        assert db.session.get(AiProposal, shown_p).status == "approved"
        assert db.session.get(AiProposal, hidden_p).status == "pending"

    page.get_by_role("link", name="Grade Blair Waldorf").click()
    page.wait_for_url(f"**/coursework/a/{world.assignment_a}/essays/{hidden}*")
    assert page.locator("#blind").is_visible()
    assert page.locator("#proposal, #proposed-score, #revealed").count() == 0
    body = " ".join(page.locator("main").inner_text().split())
    assert "5 of 6" not in body and "95%" not in body and FEEDBACK[:20] not in body, body
    assert page.locator('input[name="hidden_proposal"]').get_attribute("value") == str(hidden_p)
    assert axe_violations(page) == []
    _look(page, phone, "grade-before")

    page.get_by_label("Score (1–6)").fill("3")
    page.get_by_label("Comment for the student").fill("A clear claim; the middle needs a source.")
    page.get_by_role("button", name="Save grade").click()
    revealed = page.locator("#revealed")
    revealed.wait_for()
    assert page.locator("#revealed-score").inner_text() == "5"
    assert "You gave 3 of 6 before seeing Gradeloop's proposal" in " ".join(revealed.inner_text().split())
    assert "What Gradeloop proposed" in revealed.inner_text()
    assert page.locator("#blind, #proposal").count() == 0
    assert axe_violations(page) == []
    _look(page, phone, "grade-after")
    with app.app_context():
        assert db.session.scalars(db.select(Grade.blind).filter_by(submission_id=hidden)).all() == [True]

    page.goto(queue_url)
    assert page.locator("tr[data-proposal]").count() == 0
    assert page.locator("#queue-empty").is_visible()


# Where the keyboard's focus is: the element and the proposal row it is in, if any.
FOCUSED = """() => { const el = document.activeElement, row = el.closest('tr[data-proposal]');
  return {tag: el.tagName, id: el.id, text: (el.innerText || '').trim(), row: row && row.dataset.proposal}; }"""


def _tab_to(page, text: str = "", *, id: str = "", limit: int = 40) -> list[dict]:
    """Press Tab until the focused element reads `text` (or has `id`); every stop on the way."""
    stops = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        stops.append(page.evaluate(FOCUSED))
        if (stops[-1]["id"] == id) if id else (stops[-1]["text"] == text):
            return stops
    raise AssertionError(f"Tab never reached {text or id!r}: {stops}")


def _teacher_opens(app, client, world, browser, path: str):
    """The teacher signed in, `path` open at desktop width: (the page, `_queue`'s ids)."""
    ids = _queue(app, world)
    login(client, app, course_id=world.course_a, user_id=world.teacher_a, role=Role.INSTRUCTOR,
          platform_id=world.platform)
    page = open_page(browser, client, width=DESKTOP)
    page.goto(f"{BASE}{path}")
    return page, ids


def test_the_blind_check_by_keyboard_alone(app, client, world, browser):
    page, (shown, hidden, shown_p, hidden_p) = _teacher_opens(app, client, world, browser,
                                                              f"/review/a/{world.assignment_a}")
    stops = _tab_to(page, "Grade Blair Waldorf")
    assert [s for s in stops if s["row"] == str(hidden_p)] == [stops[-1]], "the blind row's one stop is its link"
    page.keyboard.press("Enter")
    page.locator("#blind").wait_for()
    assert page.locator("#proposal").count() == 0

    stops = _tab_to(page, id="score")   # the card holds no stop: from the navigation on to the form
    assert [s["tag"] for s in stops if s["tag"] not in ("A", "INPUT")] == [], stops
    page.keyboard.type("3")
    page.keyboard.press("Tab")
    page.keyboard.type("2")
    page.keyboard.press("Tab")
    assert page.evaluate(FOCUSED)["id"] == "comment"
    page.keyboard.type("My own reading.")
    _tab_to(page, "Save grade", limit=3)
    page.keyboard.press("Enter")
    page.locator("#revealed").wait_for()
    assert page.locator("#revealed-score").inner_text() == "5"

    feedback = page.locator("#revealed-feedback")
    assert not feedback.is_visible(), "the proposed feedback waits behind its summary"
    page.locator("body").focus()
    _tab_to(page, "The feedback it proposed")
    page.keyboard.press("Enter")
    assert feedback.is_visible() and FEEDBACK[:20] in feedback.inner_text()
    with app.app_context():
        assert db.session.scalars(db.select(Grade.blind).filter_by(submission_id=hidden)).all() == [True]


def test_the_essay_list_keeps_a_blind_essays_proposal_hidden(app, client, world, browser):
    page, _ = _teacher_opens(app, client, world, browser, f"/coursework/a/{world.assignment_a}")
    assert "Proposed 5/6" in page.get_by_role("row").filter(has_text="Ada Lovelace").inner_text()
    blind_row = page.get_by_role("row").filter(has_text="Blair Waldorf")
    assert "5/6" not in blind_row.inner_text(), blind_row.inner_text()
    assert "grade it first" in blind_row.inner_text()
