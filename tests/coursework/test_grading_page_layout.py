"""Where things sit on the pages a teacher grades from (a teacher's walk-through): what changed in a
revision right after the revised text, the earlier grade's comment quoted without a doubled full
stop, the review queue marking a proposal for a revised essay, and the essays list's score cell
keeping its comma with the AI marker (Flask test client, fresh SQLite)."""
from __future__ import annotations

import re

import pytest

from lti_app.extensions import db
from lti_app.models import AiProposal, Grade, GradeSource, Submission
from tests.coursework.test_revision import REVISED, _grade, _grade_url, _student, _teacher


def _revise(app, world, comment: str = "Give evidence.", proposal: bool = False):
    """Student1's essay graded 3 with `comment`, returned and revised; the teacher's client."""
    teacher, t_csrf = _teacher(app, world)
    student, s_csrf = _student(app, world)
    _grade(teacher, t_csrf, world, "3", comment)
    teacher.post(f"{_grade_url(world)}/return", data={"csrf_token": t_csrf})
    assert student.post(f"/coursework/a/{world.assignment_a}/essay",
                        data={"csrf_token": s_csrf, "text": REVISED}).status_code == 303
    if proposal:
        _propose(app, world)
    return teacher


def _propose(app, world) -> None:
    """A pending AI proposal for student1's essay as it stands."""
    with app.app_context():
        submission = db.session.get(Submission, world.essay_a)
        db.session.add(AiProposal(submission_id=submission.id, score=4, confidence=0.7, trait_scores={},
                                  feedback="Good.", status="pending", unusual=[],
                                  essay_submitted_at=submission.submitted_at))
        db.session.commit()


def _at(page: str, marker: str) -> int:
    where = page.find(marker)
    assert where >= 0, marker
    return where


def test_what_changed_follows_the_revised_text_before_the_grading_form(app, world):
    page = _revise(app, world).get(_grade_url(world)).get_data(as_text=True)
    essay = _at(page, '<h2 id="essay-h">Revised essay</h2>')
    text, changes = _at(page, REVISED), _at(page, '<details id="changes"')
    earlier = _at(page, '<details id="previous-version">')
    assert essay < text < changes < earlier < _at(page, 'id="grade-form"') < _at(page, '<h2 id="sync-h">Gradebook')
    # inside the essay's own section, as on the review page: no heading or landmark between them
    section = page[essay:page.index("</section>", essay)]
    assert '<details id="changes"' in section and '<details id="previous-version">' in section
    assert page.count('<details id="changes"') == 1 and page.count('id="previous-version"') == 1


@pytest.mark.parametrize("comment, quoted", [
    ("Please split your ideas into paragraphs.", '"Please split your ideas into paragraphs."'),
    ("Why this claim?", '"Why this claim?"'),
    ("Give evidence", '"Give evidence".'),
])
def test_the_earlier_comment_is_quoted_without_a_second_full_stop(app, world, comment, quoted):
    page = _revise(app, world, comment).get(_grade_url(world)).get_data(as_text=True)
    notice = " ".join(re.search(r'<div class="notice notice-warning" role="status" id="revised">(.*?)</div>',
                                page, re.S).group(1).replace("&#34;", '"').split())
    assert f"3, {quoted} Grade this one" in notice, notice


def test_the_review_queue_marks_a_proposal_for_a_revised_essay(app, world):
    teacher = _revise(app, world, proposal=True)
    queue = teacher.get(f"/review/a/{world.assignment_a}").get_data(as_text=True)
    student = re.search(r'<td role="cell" class="stack-head">(.*?)</td>', queue, re.S).group(1)
    assert "(revised)" in student, student


def test_a_first_version_in_the_review_queue_is_not_marked_revised(app, world):
    teacher, _ = _teacher(app, world)
    _propose(app, world)
    queue = teacher.get(f"/review/a/{world.assignment_a}").get_data(as_text=True)
    assert 'data-proposal="' in queue and "(revised)" not in queue


def test_the_ai_markers_comma_stays_with_its_words_in_the_essays_list(app, world):
    """The comma before the AI marker was a visually hidden element of its own between the score and
    the badge, and the cell broke as "3 / , / AI proposal…". It is now a plain character right after
    the score, with no element boundary it could break at."""
    teacher, _ = _teacher(app, world)
    with app.app_context():
        db.session.add(Grade(submission_id=world.essay_a, score=3, source=GradeSource.AI_APPROVED, score_min=1,
                             score_max=6))
        db.session.commit()
    listing = teacher.get(f"/coursework/a/{world.assignment_a}").get_data(as_text=True)
    cell = re.search(r'<td role="cell" data-label="Score">(.*?)</td>', listing, re.S).group(1).strip()
    assert re.fullmatch(r'3, <span class="badge ai-source">AI proposal, approved by a teacher</span>', cell), cell
