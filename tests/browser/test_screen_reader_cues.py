"""What a screen reader is told, beyond what axe-core checks (tests/browser/test_accessibility.py):
a hand-in error marks the field it is about (a damaged file, not the untouched text box); a form's
outcome ("Your essay was handed in.", "Grade saved.") takes focus where the reader lands, while an
ordinary page load moves no focus; the AI's proposed feedback reads as a list on its review page,
as the student reads it.

The pages come from the Flask test client (tests.browser.served); the markup checks need no browser."""
from __future__ import annotations

import io
import re

import pytest

from lti_app.extensions import db
from lti_app.models import AiProposal, Role
from tests.browser.served import BASE, open_page
from tests.coursework.helpers import docx_bytes, login


def _student(client, app, world) -> str:
    return login(client, app, course_id=world.course_a, user_id=world.student2_a, role=Role.LEARNER,
                 resource_link_id=world.link_a, platform_id=world.platform)


def _teacher(client, app, world) -> str:
    return login(client, app, course_id=world.course_a, user_id=world.teacher_a, role=Role.INSTRUCTOR,
                 platform_id=world.platform)


def _hand_in(client, app, world, text: str, file: tuple[bytes, str] | None = None) -> tuple[str, str]:
    """The refused hand-in's text box and file field, as tags."""
    data = {"csrf_token": _student(client, app, world), "text": text}
    if file:
        data["file"] = (io.BytesIO(file[0]), file[1])
    page = client.post(f"/coursework/a/{world.assignment_a}/essay", data=data, content_type="multipart/form-data")
    assert page.status_code == 400
    html = page.get_data(as_text=True)
    return (re.search(r'<textarea id="text"[^>]*>', html).group(0),
            re.search(r'<input type="file"[^>]*>', html).group(0))


def _marked(tag: str) -> bool:
    described = re.search(r'aria-describedby="([^"]*)"', tag).group(1).split()
    return 'aria-invalid="true"' in tag and "submit-error" in described


@pytest.mark.parametrize("file, box, field", [
    ((b"not a real docx", "essay.docx"), "", "file"),        # a damaged Word file
    ((b"%PDF-1.4", "essay.pdf"), "", "file"),                 # a type Gradeloop cannot read
    (None, "", "text"),                                       # nothing at all: the box is what to fill
    (None, "x" * 200_001, "text"),                            # too long
    ((docx_bytes("My essay from the file."), "essay.docx"), "Another text typed in the box.", "both"),
])
def test_a_hand_in_error_marks_the_field_it_is_about(app, client, world, file, box, field):
    text_box, file_field = _hand_in(client, app, world, box, file)
    assert _marked(text_box) == (field in ("text", "both")), text_box[:160]
    assert _marked(file_field) == (field in ("file", "both")), file_field[:200]
    assert "file-limit" in file_field and "text-limit" in text_box   # the limits stay described


@pytest.mark.browser
def test_an_outcome_takes_focus_once_and_an_ordinary_load_moves_none(app, client, world, browser):
    _student(client, app, world)
    page = open_page(browser, client)
    page.goto(f"{BASE}/coursework/a/{world.assignment_a}/essay")
    assert page.evaluate("document.activeElement.tagName") == "BODY", "a plain page load steals no focus"
    page.locator("#text").fill("Cars should be limited in city centres because they pollute the air.")
    page.get_by_role("button", name="Hand in").click()
    page.get_by_text("Your essay was handed in").wait_for()
    focused = page.evaluate("[document.activeElement.getAttribute('role'), document.activeElement.innerText]")
    assert focused == ["status", "Your essay was handed in."]
    page.reload()   # the notice left the address once shown: reloading says nothing, moves nothing
    assert page.evaluate("document.activeElement.tagName") == "BODY"
    assert page.get_by_text("Your essay was handed in").count() == 0

    teacher = app.test_client()
    _teacher(teacher, app, world)
    page = open_page(browser, teacher)
    page.goto(f"{BASE}/coursework/a/{world.assignment_a}/essays/{world.essay_a}")
    assert page.evaluate("document.activeElement.tagName") == "BODY"
    page.locator("#score").fill("5")
    page.get_by_role("button", name="Save grade").click()
    page.locator("main .notice[data-focus-on-load]").first.wait_for()
    # Saved, with what the gradebook made of it (this course gives Gradeloop no gradebook access).
    said = page.evaluate("[document.activeElement.className, document.activeElement.innerText]")
    assert said[0].startswith("notice") and "saved" in said[1], said


@pytest.mark.parametrize("page", ["review", "grading"])
def test_proposed_feedback_points_are_a_list(app, client, world, page):
    """On the review page and on the grading page, where the proposal shows above the teacher's form."""
    with app.app_context():
        proposal = AiProposal(submission_id=world.essay_a, score=4, confidence=0.9, trait_scores={"cohesion": 3},
                              feedback="Clear thesis.\n- Add a source for the air-quality claim.\n- Vary <b>starts</b>.",
                              status="pending", unusual=[])
        db.session.add(proposal)
        db.session.commit()
        proposal_id = proposal.id
    _teacher(client, app, world)
    url = (f"/review/a/{world.assignment_a}/p/{proposal_id}" if page == "review"
           else f"/coursework/a/{world.assignment_a}/essays/{world.essay_a}")
    html = client.get(url).get_data(as_text=True)
    block = re.search(r'<div id="proposed-feedback" class="feedback">(.*?)</div>', html, re.S).group(1)
    assert block == ('<p class="essay">Clear thesis.</p><ul><li class="essay">Add a source for the air-quality '
                     'claim.</li><li class="essay">Vary &lt;b&gt;starts&lt;/b&gt;.</li></ul>')
