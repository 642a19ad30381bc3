"""A real Chromium walks the auto-feedback story inside the sandbox LMS's iframe, with a real
`gradeloop worker` process: the teacher turns on review mode, imports 100 graded essays (CSV), watches
the worker train the course model on the dashboard's live progress bar, approves the AI proposal
for a student's essay, and the student reads the score and feedback; those pages pass the WCAG
2.1 AA audit (axe-core). Screenshots:
test-output/autofeedback-*.png."""
from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from lti_app.demo import graded_csv, graded_rows
from lti_app.extensions import db
from lti_app.models import AiProposal
from lti_app.sandbox.ui import DEMO_COURSE, FRAME_NAME, seed_demo
from tests.browser import axe_violations
from tests.browser.test_coursework_browser import ARGS, _launch
from tests.conftest import SHARED_DATA
from tests.e2e.conftest import N_GRADED, start_worker, stop_worker
from tests.worker.conftest import FAST, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SHOTS = Path(__file__).resolve().parents[2] / "test-output"
TRAINING_TIMEOUT_MS = 240_000


def _shot(page, name):
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"autofeedback-{name}.png"), full_page=True)


def test_teacher_enables_trains_approves_and_student_reads(make_tool_server, make_peer, chromium_path,
                                                           tmp_path):
    from playwright.sync_api import sync_playwright

    prefix = f"br{uuid.uuid4().hex[:8]}"
    tool = make_tool_server(broker_url=f"sqla+sqlite:///{tmp_path / 'broker.db'}", GRADELOOP_QUEUE_PREFIX=prefix,
                            **FAST)
    peer = make_peer(tool)
    seed_demo(peer.state)
    csv_path = tmp_path / "graded.csv"
    csv_path.write_bytes(graded_csv(graded_rows(N_GRADED, data_dir=SHARED_DATA)))
    essay = graded_rows(1, data_dir=SHARED_DATA, skip=N_GRADED + 10)[0]["text"]
    worker = start_worker(tool.app, prefix, tmp_path / "worker.log")
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium_path, args=ARGS)
            try:
                def new_page():
                    return browser.new_context(viewport={"width": 1100, "height": 1000}).new_page()

                def launch(user, link_id, landing):
                    """Open the placement in the LMS: the launch lands on the assignment itself."""
                    page = new_page()
                    frame = _launch(page, f"{peer.url}/courses/{DEMO_COURSE}/launch?user_id={user}&link={link_id}",
                                    landing)
                    return page, frame

                # The teacher adds the assignment (Deep Linking) ...
                page = new_page()
                frame = _launch(page, f"{peer.url}/courses/{DEMO_COURSE}/deep-link?user_id=teacher-1",
                                "Choose an essay assignment")
                frame.get_by_role("link", name="Choose an essay assignment").click()
                frame.get_by_label("Title").fill("The Face on Mars")
                frame.get_by_label("Prompt and instructions for students").fill(
                    "Convince a reader that the Face on Mars is a natural landform.")
                frame.get_by_role("button", name="Add to course").click()
                frame.get_by_text("Content added to the course").wait_for(timeout=30000)
                link_id = frame.locator("li[data-resource-link]").get_attribute("data-resource-link")

                # ... turns on review mode ...
                page, frame = launch("teacher-1", link_id, "Import graded essays")
                frame.get_by_role("link", name="Settings").click()
                frame.get_by_label("Review: Gradeloop proposes a score and feedback, you approve or edit each").check()
                frame.get_by_label("Graded essays needed before a course model is trained").fill("30")
                frame.get_by_label("Tell students when feedback is AI-assisted").check()
                _shot(page, "1-settings")
                frame.get_by_role("button", name="Save settings").click()
                frame.get_by_text("Settings saved").wait_for()

                # ... imports graded essays, and watches the worker train on the dashboard.
                frame.get_by_role("link", name="Import graded essays").click()
                frame.locator("input[type=file]").set_input_files(str(csv_path))
                frame.get_by_role("button", name="Import").click()
                frame.get_by_text(str(N_GRADED)).first.wait_for()
                frame.get_by_role("link", name="Auto-feedback").click()
                frame.locator("#training[data-status='running']").wait_for(timeout=TRAINING_TIMEOUT_MS)
                _shot(page, "2-training-progress")
                frame.get_by_text("Version 1 is scoring new essays").wait_for(timeout=TRAINING_TIMEOUT_MS)
                assert frame.locator("#training svg").count() == 1
                assert "QWK vs your grades" in frame.locator("#quality-summary").inner_text()
                _shot(page, "3-model-ready")
                audits = {"dashboard with a model": axe_violations(page.frame(name=FRAME_NAME))}
                frame.locator("section[aria-labelledby=quality-h]").screenshot(
                    path=str(SHOTS / "autofeedback-3b-quality-report.png"))

                # A student hands in; the worker scores it and composes feedback for review.
                student, sframe = launch("student-1", link_id, "Hand in your essay")
                sframe.get_by_label("Paste your essay").fill(essay)
                sframe.get_by_role("button", name="Hand in").click()
                sframe.get_by_text("Waiting for grading").wait_for()
                with tool.app.app_context():
                    proposal_id = wait_for(lambda: db.session.scalar(db.select(AiProposal.id)), 60,
                                           what="the worker's proposal")

                # The teacher reviews and approves it.
                frame.get_by_role("link", name="Review queue").first.click()
                frame.locator(f"tr[data-proposal='{proposal_id}'] a").click()
                frame.locator("#proposed-score").wait_for()
                feedback = frame.get_by_label("Feedback for the student").input_value()
                assert feedback.strip(), "the proposal carries written feedback"
                _shot(page, "4-review-proposal")
                audits["AI proposal"] = axe_violations(page.frame(name=FRAME_NAME))
                frame.get_by_role("button", name="Approve as proposed").click()
                frame.get_by_text("Grade approved").wait_for()
                with tool.app.app_context():
                    proposal = db.session.get(AiProposal, proposal_id)
                    assert proposal.status == "approved"

                # The student reads the score and the feedback.
                student, sframe = launch("student-1", link_id, "Your essay")
                sframe.locator("#score").wait_for()
                assert sframe.locator("#score").inner_text() == f"{proposal.score:g}"
                assert sframe.locator("#feedback").inner_text().split()[:5] == feedback.split()[:5]
                assert sframe.locator("#ai-label").inner_text() == "AI-assisted feedback, reviewed by your teacher"
                _shot(student, "5-student-reads-feedback")
                audits["student reads AI feedback"] = axe_violations(student.frame(name=FRAME_NAME))
                # WCAG 2.1 AA (axe-core), beside tests/browser/test_accessibility.py's pages.
                assert not any(audits.values()), audits
                student.goto(f"{peer.url}/courses/{DEMO_COURSE}/gradebook")
                _shot(student, "6-lms-gradebook")
            finally:
                browser.close()
    finally:
        stop_worker(worker)
