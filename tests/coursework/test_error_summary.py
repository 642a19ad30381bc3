"""A form refused by the server's checks opens with a summary (GOV.UK's error summary) that names
each field's error as a link to that field, and takes focus: it used to say only "Please correct
the fields marked below." Every link's target is a field on the same page, marked invalid and
described by its error."""
from __future__ import annotations

import html
import re

from lti_app.extensions import db
from lti_app.models import Assignment, Role
from tests.coursework.helpers import login


def _summary(page: str) -> list[tuple[str, str]]:
    """[(href, link text)] of the page's error summary."""
    box = re.search(r'<div class="notice notice-error error-summary" role="alert" id="error-summary" '
                    r'tabindex="-1" data-focus-on-load>(.*?)</div>', page, re.S)
    assert box, "no error summary that takes focus"
    return [(href, " ".join(html.unescape(text).split()))
            for href, text in re.findall(r'<a href="([^"]+)">(.*?)</a>', box.group(1), re.S)]


def _field(page: str, element_id: str) -> str:
    [tag] = re.findall(rf'<(?:input|textarea|select)\b[^>]*\bid="{re.escape(element_id)}"[^>]*>', page)
    return html.unescape(tag)


def _assert_links_reach_their_fields(page: str, expected: dict[str, str]) -> None:
    links = _summary(page)
    assert dict(links) == expected
    for href, _ in links:
        field = _field(page, html.unescape(href[1:]))
        if 'type="radio"' not in field:
            assert 'aria-invalid="true"' in field, field
            described = re.search(r'aria-describedby="([^"]+)"', field).group(1)
            assert all(f'id="{target}"' in page for target in described.split()), described


def test_grading_errors_link_to_the_score_the_trait_and_the_comment(client, app, world):
    with app.app_context():   # a trait name with a space: ids cannot hold one
        db.session.get(Assignment, world.assignment_a).traits = [{"name": "use of evidence", "min": 1, "max": 5}]
        db.session.commit()
    token = login(client, app, course_id=world.course_a, user_id=world.teacher_a, role=Role.INSTRUCTOR)
    refused = client.post(f"/coursework/a/{world.assignment_a}/essays/{world.essay_a}",
                          data={"csrf_token": token, "score": "9", "trait:use of evidence": "7",
                                "comment": "x" * 20_001})
    assert refused.status_code == 400
    _assert_links_reach_their_fields(refused.get_data(as_text=True), {
        "#score": "Score must be a number from 1 to 6",
        "#trait-use.of.evidence": "Use of evidence must be a number from 1 to 5",
        "#comment": "Comment is longer than 20,000 characters"})


def test_settings_and_assignment_errors_link_to_their_fields(client, app, world):
    token = login(client, app, course_id=world.course_a, user_id=world.teacher_a, role=Role.INSTRUCTOR)
    settings = client.post(f"/coursework/a/{world.assignment_a}/settings",
                           data={"csrf_token": token, "feedback_mode": "sometimes", "min_graded": "many",
                                 "retrain_every": "5", "confidence_threshold": "200"})
    page = settings.get_data(as_text=True)
    assert settings.status_code == 400 and [href for href, _ in _summary(page)] == [
        "#feedback_mode", "#min_graded", "#confidence_threshold"]
    _assert_links_reach_their_fields(page, dict(_summary(page)))
    edited = client.post(f"/coursework/a/{world.assignment_a}/edit",
                         data={"csrf_token": token, "title": "", "score_min": "x", "score_max": "6"})
    _assert_links_reach_their_fields(edited.get_data(as_text=True), {
        "#title": "Title: Give the assignment a title (at most 200 characters).",
        "#score_min": "Lowest score: Enter a whole number."})
