"""A real Chromium drives the whole essay loop from the sandbox LMS's course page, with Gradeloop
in the LMS's cross-site iframe: the teacher adds an essay assignment by Deep Linking, a student
hands in an essay, the teacher grades it, the student sees the grade and the LMS gradebook holds
it; the teacher returns it for revision and the student hands in a new version. Screenshots go to
test-output/coursework-*.png."""
from __future__ import annotations

from pathlib import Path

import pytest

from lti_app.sandbox.ui import DEMO_COURSE, FRAME_NAME, seed_demo
from tests.browser import CHROMIUM_ARGS

pytestmark = pytest.mark.browser

ARGS = CHROMIUM_ARGS
SHOTS = Path(__file__).resolve().parents[2] / "test-output"
ESSAY = ("Cars should be limited in city centres. Fewer cars mean cleaner air, safer streets for "
         "children walking to school, and more room for buses and bicycles.")


def _launch(page, url: str, landing_text: str):
    """Open an LMS page that launches Gradeloop in its iframe; returns a locator for the iframe.
    A FrameLocator finds the iframe's current document for every action: the Frame object
    Playwright tracks can lag behind when the cross-site iframe swaps processes mid-launch."""
    page.goto(url)
    frame = page.frame_locator(f'iframe[name="{FRAME_NAME}"]')
    try:
        frame.get_by_text(landing_text).first.wait_for(timeout=30000)
    except Exception:
        _shot(page, "failed")
        raise
    return frame


def _propose(app, user_sub: str, score: float) -> int:
    """The worker's proposal for a student's essay, written straight to the tool's database."""
    from lti_app.extensions import db
    from lti_app.models import AiProposal, Submission, User

    with app.app_context():
        submission = db.session.scalar(db.select(Submission).join(User, Submission.user_id == User.id)
                                       .where(User.sub == user_sub))
        proposal = AiProposal(submission_id=submission.id, score=score, confidence=0.9, trait_scores={"evidence": 5},
                              feedback="Great work overall.", status="pending", unusual=[])
        db.session.add(proposal)
        db.session.commit()
        return proposal.id


def _shot(page, name):
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"coursework-{name}.png"), full_page=True)


def test_teacher_creates_student_submits_teacher_grades(peer, tool_server, chromium_path):
    from playwright.sync_api import sync_playwright

    seed_demo(peer.state)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path, args=ARGS)
        try:
            def new_page():
                return browser.new_context(viewport={"width": 1100, "height": 900}).new_page()

            # Teacher: "add content" -> Gradeloop's assignment form -> back to the LMS.
            teacher = new_page()
            frame = _launch(teacher, f"{peer.url}/courses/{DEMO_COURSE}/deep-link?user_id=teacher-1",
                            "Choose an essay assignment")
            frame.get_by_role("link", name="Choose an essay assignment").click()
            frame.get_by_label("Title").fill("Car-free city centres")
            frame.get_by_label("Prompt and instructions for students").fill("Argue for or against car-free centres.")
            frame.get_by_label("Rubric traits").fill("evidence 1-5")
            _shot(teacher, "1-teacher-creates")
            frame.get_by_role("button", name="Add to course").click()
            frame.get_by_text("Content added to the course").wait_for(timeout=30000)
            link_id = frame.locator("li[data-resource-link]").get_attribute("data-resource-link")
            [line_item] = peer.line_items(DEMO_COURSE)
            assert line_item["label"] == "Car-free city centres" and line_item["scoreMaximum"] == 6

            # Student: launch the new placement, paste the essay, hand in.
            launch = f"{peer.url}/courses/{DEMO_COURSE}/launch?link={link_id}&user_id="
            student = new_page()
            frame = _launch(student, launch + "student-1", "Hand in your essay")  # the launch opens it
            # Typing is use: the page tells the session (the cross-site iframe's cookie or token).
            with student.expect_response(lambda r: r.url.endswith("/session/keep-alive")) as alive:
                frame.get_by_label("Paste your essay").fill(ESSAY)
            assert alive.value.ok and alive.value.json()["field"] in ("launch", "lt")
            frame.get_by_role("button", name="Hand in").click()
            frame.get_by_text("Waiting for grading").wait_for()
            _shot(student, "2-student-submitted")
            assert peer.scores(line_item["id"])[-1]["gradingProgress"] == "PendingManual"   # no model yet
            # The student leaves this page open, and opens it again to start a second version.
            waiting = frame
            typing = _launch(new_page(), launch + "student-1", "Hand in a new version")
            typing.locator("#text").fill("A second version, not handed in yet.")   # it starts from the first

            # Teacher: the list shows Grace Hopper's essay; grade it.
            teacher = new_page()
            frame = _launch(teacher, launch + "teacher-1", "Grace Hopper")
            assert frame.locator("tr[data-status='Not submitted']").count() == 3
            _shot(teacher, "3-teacher-list")
            frame.get_by_role("link", name="Grace Hopper").click()
            frame.get_by_label("Score (1–6)").fill("5")
            frame.get_by_label("Evidence (1–5)").fill("4")
            frame.get_by_label("Comment for the student").fill("Strong reasons; add a source for the air-quality claim.")
            frame.get_by_role("button", name="Save grade").click()
            frame.get_by_text("Grade saved and sent to the LMS gradebook.").wait_for()
            _shot(teacher, "4-teacher-graded")

            # The pages left open learn of the grade by themselves (coursework/student_status.py):
            # both announce it with a link and stay put (no reload under a reader), and the one holding
            # typed work keeps the work.
            waiting.get_by_role("link", name="Show my feedback").click(timeout=60000)
            waiting.locator("#score").wait_for()
            assert waiting.locator("#score").inner_text() == "5"
            typing.locator("#status-change").wait_for(timeout=60000)
            assert "Your essay has been graded." in typing.locator("#status-change").inner_text()
            assert typing.locator("#text").input_value() == "A second version, not handed in yet."
            assert typing.locator("#score").count() == 0

            # Student sees the grade; the LMS gradebook holds it.
            student = new_page()
            frame = _launch(student, launch + "student-1", "Your essay")
            frame.locator("#score").wait_for()
            assert frame.locator("#score").inner_text() == "5"
            assert "add a source" in frame.locator("#feedback").inner_text()
            _shot(student, "5-student-sees-grade")
            teacher.goto(f"{peer.url}/courses/{DEMO_COURSE}/gradebook")
            _shot(teacher, "6-lms-gradebook")
            [result] = peer.results(line_item["id"], "student-1")
            assert result["resultScore"] == 5

            # Reviewing an AI proposal: the teacher changes the score and presses Enter in the field.
            # Enter must save the teacher's edit, not press "Approve as proposed" (the AI's score).
            student = new_page()
            frame = _launch(student, launch + "student-2", "Hand in your essay")
            frame.get_by_label("Paste your essay").fill(ESSAY + " Buses would run on time.")
            frame.get_by_role("button", name="Hand in").click()
            frame.get_by_text("Waiting for grading").wait_for()
            proposal_id = _propose(tool_server.app, "student-2", score=6)   # as the worker would
            teacher = new_page()
            frame = _launch(teacher, launch + "teacher-1", "Grace Hopper")
            frame.get_by_role("link", name="Review queue").first.click()
            frame.locator(f"tr[data-proposal='{proposal_id}'] a").click()
            frame.locator("#proposed-score").wait_for()
            frame.get_by_label("Feedback for the student").fill("Name one study about buses.")
            frame.get_by_label("Score (1–6)").fill("3")
            frame.get_by_label("Score (1–6)").press("Enter")
            frame.get_by_text("Grade saved with your changes").wait_for()
            [result] = peer.results(line_item["id"], "student-2")
            assert result["resultScore"] == 3 and "study about buses" in result["comment"]

            # Revision: the teacher returns Grace's graded essay; she reads the feedback and hands in
            # a new version; the LMS keeps her grade until the teacher grades the new one.
            teacher = new_page()
            frame = _launch(teacher, launch + "teacher-1", "Grace Hopper")
            frame.get_by_role("link", name="Grace Hopper").click()
            frame.get_by_label("Comment for the student").fill("A draft I have not saved.")
            frame.get_by_role("button", name="Return for revision").click()   # held back: unsaved changes
            frame.locator("#return-unsaved").wait_for(state="visible")
            assert frame.locator("#returned").count() == 0
            teacher = new_page()
            frame = _launch(teacher, launch + "teacher-1", "Grace Hopper")
            frame.get_by_role("link", name="Grace Hopper").click()
            frame.get_by_role("button", name="Return for revision").click()
            frame.get_by_text("The student can now hand in a new version").wait_for()
            student = new_page()
            frame = _launch(student, launch + "student-1", "returned your essay for revision")
            assert "add a source" in frame.locator("#feedback").inner_text()
            frame.get_by_role("textbox", name="Your essay").fill(ESSAY + " A 2024 city report measured 30% less NO2.")
            frame.get_by_role("button", name="Hand in").click()
            frame.get_by_text("Waiting for grading").wait_for()
            frame.get_by_text("Feedback on your previous version").click()
            assert frame.locator("#previous-score").inner_text() == "5"
            _shot(student, "7-student-revised")
            [result] = peer.results(line_item["id"], "student-1")
            assert result["resultScore"] == 5
        finally:
            browser.close()
