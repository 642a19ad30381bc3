"""A teacher who opens an essay from the essay list while Gradeloop's proposal for it waits in the
review queue reads that proposal on the grading page (score, trait scores, feedback, confidence,
why the essay is unusual), with a link to review it and the words that saving a grade there settles
it; the form stays blank (the teacher's grade is their own, and training data). A proposal on an
older version, a decided one, or one of an essay graded meanwhile is not shown. The review page of
a revised essay shows the grade and comment the earlier version got, as the grading page does.
Names stay hidden with anonymous grading (Flask test client, fresh SQLite; one check in Chromium
with axe-core)."""
from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest

from lti_app.extensions import db
from lti_app.models import AiProposal, Assignment, Role, Submission, SubmissionStatus
from tests.coursework.helpers import login

FIRST = "My essay about things."
REVISED = "My essay about things, now with evidence: a survey of 200 students found the opposite."
REASON = "much shorter than the essays the model learned from (4 words)"
FEEDBACK = "Your claim is clear.\n\nAdd a second source to support it."


def _text(markup: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", markup)).split())


def _grade_url(world) -> str:
    return f"/coursework/a/{world.assignment_a}/essays/{world.essay_a}"


def _teacher(app, world):
    client = app.test_client()
    return client, login(client, app, course_id=world.course_a, user_id=world.teacher_a, role=Role.INSTRUCTOR,
                         platform_id=world.platform)


def _student(app, world):
    client = app.test_client()
    return client, login(client, app, course_id=world.course_a, user_id=world.student1_a, role=Role.LEARNER,
                         resource_link_id=world.link_a, platform_id=world.platform)


def _propose(app, world, *, older=False, status="pending", unusual=(REASON,), feedback=FEEDBACK) -> int:
    """Gradeloop's proposal for student 1's essay as it stands (`older`: for the version before)."""
    with app.app_context():
        submission = db.session.get(Submission, world.essay_a)
        scored = submission.submitted_at - (timedelta(hours=1) if older else timedelta(0))
        proposal = AiProposal(submission_id=world.essay_a, score=4, trait_scores={"cohesion": 3}, confidence=0.42,
                              feedback=feedback, status=status, unusual=list(unusual), essay_submitted_at=scored)
        db.session.add(proposal)
        db.session.commit()
        return proposal.id


def _section(page: str, labelled_by: str) -> str:
    """The <section> labelled by the heading `labelled_by`, or ""."""
    found = re.search(rf'<section[^>]*aria-labelledby="{labelled_by}".*?</section>', page, re.S)
    return found.group(0) if found else ""


def _links_to_review(markup: str, world, proposal_id: int) -> bool:
    return re.search(rf'href="/review/a/{world.assignment_a}/p/{proposal_id}[?"]', markup) is not None


def _proposal_section(page: str) -> str:
    return _section(page, "proposal-h")


def _grade(teacher, csrf, world, score: str, comment: str):
    page = teacher.get(_grade_url(world)).get_data(as_text=True)
    seen = re.search(r'name="seen" value="([^"]+)"', page).group(1)
    response = teacher.post(_grade_url(world), data={"csrf_token": csrf, "seen": seen, "score": score,
                                                     "comment": comment})
    assert response.status_code == 303, response.get_data(as_text=True)


def test_the_grading_page_shows_the_waiting_proposal_and_where_to_review_it(app, world):
    proposal_id = _propose(app, world)
    teacher, _ = _teacher(app, world)
    page = teacher.get(_grade_url(world)).get_data(as_text=True)
    section = _proposal_section(page)
    assert section, "no section for the proposal"
    assert re.search(r'<h2 id="proposal-h">Gradeloop(\'|&#39;)s proposal \(not yet reviewed\)</h2>', section)
    words = _text(section)
    assert "Proposed score 4 of 6; cohesion 3 of 5." in words
    assert "confidence in this score: 42%" in words
    # Its paragraphs kept, as the student would read them (coursework/_feedback.html).
    assert ('<div id="proposed-feedback" class="feedback"><p class="essay">Your claim is clear.</p>'
            '<p class="essay">Add a second source to support it.</p></div>') in section
    assert f"<li>{REASON}</li>" in section and "The model has not learned from essays like this one" in words
    assert _links_to_review(section, world, proposal_id)
    assert "Saving a grade here settles the proposal: it leaves the review queue" in words
    # The teacher's form is not filled in with the AI's numbers or words.
    form = page[page.index('id="grade-form"'):]
    assert re.search(r'<input type="number" id="score" name="score"[^>]*value=""', form)
    assert re.search(r'<input type="number" id="trait-cohesion" name="trait:cohesion"[^>]*value=""', form)
    assert re.search(r'<textarea id="comment" name="comment"[^>]*></textarea>', form)
    # In reading order: the essay, the proposal, then the teacher's own form.
    assert page.index('id="essay-h"') < page.index('id="proposal-h"') < page.index('id="grade-form"')


@pytest.mark.parametrize("case", ["older version", "approved", "graded meanwhile", "returned", "plain"])
def test_nothing_of_a_proposal_that_is_not_waiting_for_review(app, world, case):
    if case == "older version":
        _propose(app, world, older=True)
    elif case == "approved":
        _propose(app, world, status="approved")
    elif case in ("graded meanwhile", "returned"):
        _propose(app, world)
        with app.app_context():
            db.session.get(Submission, world.essay_a).status = (
                SubmissionStatus.GRADED if case == "graded meanwhile" else SubmissionStatus.RETURNED)
            db.session.commit()
    teacher, _ = _teacher(app, world)
    page = teacher.get(_grade_url(world)).get_data(as_text=True)
    assert 'id="proposal-h"' not in page and f"/review/a/{world.assignment_a}/p/" not in page
    assert "Add a second source" not in page and REASON not in page and 'id="unusual"' not in page


def test_saving_a_grade_settles_the_proposal_it_showed(app, world):
    proposal_id = _propose(app, world, unusual=())
    teacher, csrf = _teacher(app, world)
    page = teacher.get(_grade_url(world)).get_data(as_text=True)
    assert _links_to_review(_proposal_section(page), world, proposal_id)
    assert 'id="unusual"' not in page   # no reasons, no warning
    assert f'data-proposal="{proposal_id}"' in teacher.get(f"/review/a/{world.assignment_a}").get_data(as_text=True)
    _grade(teacher, csrf, world, "5", "My own words.")
    assert not _proposal_section(teacher.get(_grade_url(world)).get_data(as_text=True))
    queue = teacher.get(f"/review/a/{world.assignment_a}").get_data(as_text=True)
    assert f'data-proposal="{proposal_id}"' not in queue and 'id="queue-empty"' in queue


def _graded_returned_revised(app, world):
    """Graded 3 by the teacher, returned, revised by the student; the teacher's client."""
    teacher, t_csrf = _teacher(app, world)
    student, s_csrf = _student(app, world)
    _grade(teacher, t_csrf, world, "3", "Give evidence for your claim, Student1 A.")
    assert teacher.post(f"{_grade_url(world)}/return", data={"csrf_token": t_csrf}).status_code == 303
    assert student.post(f"/coursework/a/{world.assignment_a}/essay",
                        data={"csrf_token": s_csrf, "text": REVISED}).status_code == 303
    return teacher


def test_the_review_page_of_a_revised_essay_shows_the_earlier_grade(app, world):
    teacher = _graded_returned_revised(app, world)
    proposal_id = _propose(app, world, unusual=())
    page = teacher.get(f"/review/a/{world.assignment_a}/p/{proposal_id}").get_data(as_text=True)
    notice = re.search(r'<div[^>]*id="revised".*?</div>', page, re.S)
    assert notice, "no word of the earlier grade"
    words = _text(notice.group(0))
    assert ('The grade on the version the student handed in before: 3, "Give evidence for your claim, Student1 A."'
            in words)
    assert "Until the new version is graded (approving or changing a proposal for it grades it)" in words
    earlier = re.search(r'<details id="previous-version">.*?</details>', page, re.S)
    assert earlier and FIRST in earlier.group(0) and REVISED not in earlier.group(0)
    assert re.search(r'<h2 id="essay-h">Revised essay</h2>\s*<div class="essay">' + re.escape(REVISED), page)
    # The grading page shows both: the earlier grade and the proposal for the new version.
    grading = teacher.get(_grade_url(world)).get_data(as_text=True)
    assert 'id="revised"' in grading and _links_to_review(_proposal_section(grading), world, proposal_id)


def test_the_review_page_of_a_first_version_has_no_earlier_grade(app, world):
    proposal_id = _propose(app, world, unusual=())
    teacher, _ = _teacher(app, world)
    page = teacher.get(f"/review/a/{world.assignment_a}/p/{proposal_id}").get_data(as_text=True)
    assert 'id="revised"' not in page and 'id="previous-version"' not in page
    assert '<h2 id="essay-h">Essay</h2>' in page


def test_anonymous_grading_hides_the_name_in_what_these_pages_add(app, world):
    teacher = _graded_returned_revised(app, world)
    proposal_id = _propose(app, world, feedback="Much better, Student1 A: the survey settles it.")
    with app.app_context():
        db.session.get(Assignment, world.assignment_a).anonymous_grading = True
        db.session.commit()
    grading = teacher.get(_grade_url(world)).get_data(as_text=True)
    assert "Much better, [student]: the survey settles it." in _proposal_section(grading)
    review = teacher.get(f"/review/a/{world.assignment_a}/p/{proposal_id}").get_data(as_text=True)
    assert "Give evidence for your claim, [student]." in _text(review)
    for page in (grading, review):
        # the review page's edit box holds the proposal's feedback as it will be sent (documented)
        outside_the_edit_box = re.sub(r'<textarea id="comment".*?</textarea>', "", page, flags=re.S)
        assert "Student1 A" not in outside_the_edit_box and "student1-a" not in outside_the_edit_box


@pytest.mark.browser
def test_the_new_parts_pass_axe(app, world, chromium_path):
    """WCAG 2.1 AA on the grading page with a waiting proposal of a revised, unusual essay, and on
    that proposal's review page with the earlier grade."""
    from tests.browser import axe_violations
    from tests.browser.served import BASE, open_page, served_browser

    teacher = _graded_returned_revised(app, world)
    proposal_id = _propose(app, world)
    found = {}
    with served_browser(chromium_path) as browser:
        for name, path in (("grading", _grade_url(world)),
                           ("review", f"/review/a/{world.assignment_a}/p/{proposal_id}")):
            page = open_page(browser, teacher)
            page.goto(BASE + path)
            page.locator("#previous-version" if name == "review" else "#proposal-h").wait_for(state="attached")
            found[name] = axe_violations(page)
    assert found == {"grading": [], "review": []}
