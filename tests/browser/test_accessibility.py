"""Accessibility: axe-core (the engine behind most WCAG audits, shipped inside the
`axe-playwright-python` package, no network) checks every page a teacher or student meets in the
essay loop against WCAG 2.1 A and AA, inside the LMS's iframe in a real Chromium, including the
pages that show a form's mistakes and the error page. Schools buy against these rules (VPAT,
Section 508, EN 301 549), and a screen-reader user grades and hands in through these pages."""
from __future__ import annotations

import pytest

from lti_app.sandbox.ui import DEMO_COURSE, FRAME_NAME, seed_demo
from tests.browser import axe_violations
from tests.browser.test_coursework_browser import ARGS, ESSAY, _launch

pytestmark = pytest.mark.browser


def test_the_essay_loop_meets_wcag_21_aa(peer, tool_server, chromium_path):
    from playwright.sync_api import sync_playwright

    seed_demo(peer.state)
    found: dict[str, list[str]] = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path, args=ARGS)
        try:
            def new_page():
                return browser.new_context(viewport={"width": 1100, "height": 900}).new_page()

            def audit(page, name: str, wait_for: str) -> None:
                frame = page.frame_locator(f'iframe[name="{FRAME_NAME}"]')
                frame.get_by_text(wait_for).first.wait_for(timeout=30000)
                found[name] = axe_violations(page.frame(name=FRAME_NAME))

            teacher = new_page()
            frame = _launch(teacher, f"{peer.url}/courses/{DEMO_COURSE}/deep-link?user_id=teacher-1",
                            "Choose an essay assignment")
            audit(teacher, "deep-link start", "Choose an essay assignment")
            frame.get_by_role("link", name="Choose an essay assignment").click()
            frame.get_by_label("Title").fill("Car-free city centres")
            frame.get_by_label("Highest score").fill("0")
            frame.get_by_role("button", name="Add to course").click()
            audit(teacher, "new assignment, with a mistake", "Please correct the fields")
            frame.get_by_label("Highest score").fill("6")
            frame.get_by_label("Prompt and instructions for students").fill("Argue for or against car-free centres.")
            frame.get_by_label("Rubric traits").fill("evidence 1-5")
            frame.get_by_role("button", name="Add to course").click()
            frame.get_by_text("Content added to the course").wait_for(timeout=30000)
            link_id = frame.locator("li[data-resource-link]").get_attribute("data-resource-link")
            launch = f"{peer.url}/courses/{DEMO_COURSE}/launch?link={link_id}&user_id="

            student = new_page()
            frame = _launch(student, launch + "student-1", "Hand in your essay")
            audit(student, "student hand-in", "Hand in your essay")
            frame.get_by_label("Paste your essay").fill(ESSAY)
            frame.get_by_role("button", name="Hand in").click()
            audit(student, "student waiting", "Waiting for grading")

            teacher = new_page()
            frame = _launch(teacher, launch + "teacher-1", "Grace Hopper")
            audit(teacher, "essay list", "Grace Hopper")
            frame.get_by_role("link", name="Grace Hopper").click()
            frame.get_by_label("Score (1–6)").fill("9")
            frame.get_by_role("button", name="Save grade").click()
            audit(teacher, "grading page, with a mistake", "Score (1–6)")
            frame.get_by_label("Score (1–6)").fill("5")
            frame.get_by_label("Evidence (1–5)").fill("4")
            frame.get_by_label("Comment for the student").fill("Strong reasons; add a source.")
            frame.get_by_role("button", name="Save grade").click()
            audit(teacher, "grading page, saved", "Grade saved")
            for label in ("Settings", "Import graded essays", "Auto-feedback", "Review queue"):
                with teacher.frame(name=FRAME_NAME).expect_navigation():
                    frame.locator('nav[aria-label="Assignment pages"]').get_by_role("link", name=label).click()
                audit(teacher, label, label)

            student = new_page()
            _launch(student, launch + "student-1", "Your essay")
            audit(student, "student feedback", "Your essay")

            error = new_page()
            error.goto(f"{tool_server.url}/coursework/course")
            error.get_by_text("Open Gradeloop again").wait_for()
            found["error page"] = axe_violations(error)
        finally:
            browser.close()
    assert len(found) >= 12, sorted(found)
    problems = {page: v for page, v in found.items() if v}
    assert not problems, "\n".join(f"{page}: {v}" for page, vs in problems.items() for v in vs)
