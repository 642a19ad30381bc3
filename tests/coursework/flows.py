"""Driving Gradeloop's coursework pages through the peer LMS over HTTP, as a browser would
(requests sessions carry the tool's cookies; forms are read from the pages and posted back)."""
from __future__ import annotations

import contextlib

from lti_app.sandbox.forms import find_form, parse_forms

COURSE = "course-1"


def post_form(browser, page, data: dict | None = None, *, files=None, action_contains: str = ""):
    """Submit the page's first POST form (whose action contains `action_contains`) with `data` merged in."""
    forms = [f for f in parse_forms(page.text, page.url) if f.method == "POST" and action_contains in f.action]
    assert forms, f"no POST form ({action_contains!r}) on {page.url}: {page.text[:500]}"
    fields = {**forms[0].fields, **(data or {})}
    return browser.post(forms[0].action, data=fields, files=files, timeout=30)


def open_assignment(peer, tool, *, role="Learner", user_id="student-1", resource_link_id="rl-1",
                    course_id=COURSE, browser=None, **member):
    """Launch from the LMS, then follow the landing page to the coursework page for this role."""
    if member:
        peer.add_member(course_id, user_id, role, **member)
    result = peer.launch(browser, role=role, user_id=user_id, resource_link_id=resource_link_id,
                         course_id=course_id)
    assert result.response.status_code == 200, result.response.text[:500]
    page = result.browser.get(tool.url + "/coursework/", timeout=30)
    assert page.status_code == 200, page.text[:500]
    return result.browser, page


def create_by_deep_link(peer, tool, *, title="Persuasive essay", score_min="1", score_max="6", traits="",
                        prompt="Should students have a four-day week?", course_id=COURSE, user_id="teacher-1"):
    """Teacher adds an assignment through Deep Linking; returns the peer's stored content item."""
    result = peer.deep_link(user_id=user_id, course_id=course_id)
    assert result.response.status_code == 200, result.response.text[:500]
    page = result.browser.get(tool.url + "/coursework/", timeout=30)
    assert "New essay assignment" in page.text, page.text[:500]
    answer = post_form(result.browser, page, {"title": title, "prompt": prompt, "score_min": score_min,
                                              "score_max": score_max, "traits": traits})
    assert answer.status_code == 200 and find_form(answer.text, answer.url, with_field="JWT"), answer.text[:800]
    done = peer.submit_form(answer, result.browser, with_field="JWT")
    assert done.status_code == 200, done.text[:800]
    return peer.deep_link_items(course_id)[-1]


def submit_essay(peer, tool, link_id: str, user_id: str, text: str, **member):
    browser, page = open_assignment(peer, tool, role="Learner", user_id=user_id, resource_link_id=link_id,
                                    **member)
    after = post_form(browser, page, {"text": text}, action_contains="/essay")
    assert after.status_code == 200, after.text[:800]
    return browser, after


def grade_page_for(browser, submissions_page, student_name: str | None = None):
    """Follow the essay link of `student_name` (default: the first essay) on the teacher's list."""
    import re

    name = re.escape(student_name) if student_name else "[^<]*"
    match = re.search(r'<a href="([^"]+/essays/\d+[^"]*)">' + name + "</a>", submissions_page.text)
    assert match, f"{student_name} has no essay link on {submissions_page.url}"
    href = match.group(1).replace("&amp;", "&")
    return browser.get(submissions_page.url.split("/coursework")[0] + href, timeout=30)


# --- a graded assignment, and the same link after a course copy ---------------------------
NEW_COURSE = "course-2027"
ESSAYS = {"student-1": ("Ada Student", "Four-day weeks give families time together and rest.", "5"),
          "student-2": ("Bo Student", "I dont think so it is bad.", "2")}


def graded_two_essays(peer, tool):
    """An assignment with traits in COURSE whose two students' essays the teacher graded."""
    item = create_by_deep_link(peer, tool, title="Persuasive essay", traits="cohesion 1-5",
                               prompt="Should students have a four-day week?")
    for student, (name, text, _) in ESSAYS.items():
        submit_essay(peer, tool, item["resource_link_id"], student, text, name=name)
    teacher, listing = open_assignment(peer, tool, role="Instructor", user_id="teacher-1",
                                       resource_link_id=item["resource_link_id"])
    for name, _, score in ESSAYS.values():
        post_form(teacher, grade_page_for(teacher, listing, name),
                  {"score": score, "trait:cohesion": "3", "comment": f"Well argued, {name}."},
                  action_contains="/essays/")
    return item


def serve_a_model(tool) -> None:
    """A promoted course model serves the (only) assignment: hand-ins are scored, not left to the
    teacher. Its files are never read here (no worker scores in these tests)."""
    from lti_app.extensions import db
    from lti_app.models import Assignment, ModelVersion

    with tool.app.app_context():
        assignment = db.session.scalar(db.select(Assignment))
        model = ModelVersion(assignment_id=assignment.id, version=1, status="promoted", approach="frozen-ridge",
                             path="unused")
        db.session.add(model)
        db.session.flush()
        assignment.current_model_id = model.id
        db.session.commit()


def link_copied(peer, item, link_id="rl-copied"):
    """The LMS copied the course: the link, with its custom parameters, in NEW_COURSE."""
    peer.add_resource_link(NEW_COURSE, link_id, title="Persuasive essay (2027)", custom=dict(item["custom"]))
    return link_id


def approve_while_the_lms_does_not_answer(peer, tool_server, essay: str):
    """A teacher approves an AI proposal while the LMS answers 503: the page after the approval."""
    item = create_by_deep_link(peer, tool_server)
    submit_essay(peer, tool_server, item["resource_link_id"], "student-1", essay, name="Ada Student")
    teacher, listing = open_assignment(peer, tool_server, role="Instructor", user_id="teacher-1",
                                       resource_link_id=item["resource_link_id"])
    review = proposal_page(tool_server, teacher, score=4)
    peer.fail_next(1, status=503, match="/scores")
    return post_form(teacher, review, {"action": "approve"}, action_contains="/p/")


def proposal_page(tool_server, teacher, score: float):
    """A pending AI proposal (`score`, "Clear claim.") for the course's only essay, and its review
    page as `teacher` opens it."""
    from lti_app.extensions import db
    from lti_app.models import AiProposal, Submission

    with tool_server.app.app_context():
        submission = db.session.scalar(db.select(Submission))
        proposal = AiProposal(submission_id=submission.id, score=score, trait_scores={}, confidence=0.9,
                              feedback="Clear claim.", status="pending", unusual=[],
                              essay_submitted_at=submission.submitted_at)
        db.session.add(proposal)
        db.session.commit()
        page_url = f"{tool_server.url}/review/a/{submission.assignment_id}/p/{proposal.id}"
    return teacher.get(page_url, timeout=30)


def graded_while_lms_down(peer, tool, essay: str, names=("Ada Student",)):
    """Essays of `names` graded while the LMS gradebook answers 503: (the link item, the teacher's
    session, the pages after each save, the essay list after them)."""
    item = create_by_deep_link(peer, tool)
    for n, name in enumerate(names):
        submit_essay(peer, tool, item["resource_link_id"], f"student-{n + 1}", essay, name=name)
    teacher, listing = open_assignment(peer, tool, role="Instructor", user_id="teacher-1",
                                       resource_link_id=item["resource_link_id"])
    peer.fail_next(1, status=503, match="/scores")   # the LMS is quiet afterwards: no further save tries it
    saved = [post_form(teacher, grade_page_for(teacher, listing, name), {"score": "3"}, action_contains="/essays/")
             for name in names]
    return item, teacher, saved, teacher.get(listing.url, timeout=30)


def class_with_one_essay(peer, tool, essay: str):
    """A placed assignment, `essay` handed in by student-1 (Ada Student), and the teacher on the essay
    list: (the deep-linked item, the teacher's browser, the list page)."""
    item = create_by_deep_link(peer, tool)
    submit_essay(peer, tool, item["resource_link_id"], "student-1", essay, name="Ada Student")
    teacher, listing = open_assignment(peer, tool, role="Instructor", user_id="teacher-1",
                                       resource_link_id=item["resource_link_id"])
    return item, teacher, listing


@contextlib.contextmanager
def before_first_score_answered(peer, action, refuse: int | None = None):
    """The first score post the LMS receives from now on runs `action()` before the LMS answers it (as
    usual, or with HTTP `refuse`): a race with a post in flight, made to happen every time without
    sleeps. Yields the list that receives what `action` returned."""
    take_failure, started, ran = peer.state.take_failure, [], []

    def hold(service, request_line=""):
        if not started and request_line.startswith("POST ") and request_line.endswith("/scores"):
            started.append(request_line)   # first: `action` may post a score itself, which must pass
            ran.append(action())
            if refuse:
                peer.fail_next(1, status=refuse, services=("ags",), match="/scores")
        return take_failure(service, request_line)

    peer.state.take_failure = hold
    try:
        yield ran
    finally:
        peer.state.take_failure = take_failure
    assert ran, "no grade was posted"
