"""NRPS roster merged into the teacher's list (all pages followed), sorting and paging, and the
first-launch set-up of a link added by hand in the LMS (line item found or created over AGS)."""
import re
from urllib.parse import urljoin

from lti_app.extensions import db
from lti_app.models import Assignment
from tests.coursework.flows import COURSE, create_by_deep_link, open_assignment, post_form, submit_essay

STUDENTS = [("s-anna", "Anna Zed"), ("s-bob", "Bob Young"), ("s-cara", "Cara Xu"), ("s-dan", "Dan Webb"),
            ("s-eve", "Eve Vance")]


def _names(page) -> list[str]:
    table = page.text.split('<table id="essays"')[1].split("</table>")[0]
    return [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<tr data-status[^>]*>\s*<td[^>]*>(.*?)</td>", table, re.S)]


def test_roster_lists_everyone_across_nrps_pages(peer, tool_server):
    item = create_by_deep_link(peer, tool_server)
    for user_id, name in STUDENTS:
        peer.add_member(COURSE, user_id, "Learner", name=name, email=f"{user_id}@school.example")
    submit_essay(peer, tool_server, item["resource_link_id"], "s-cara", "Cara's essay on uniforms.")
    calls_before = len(peer.service_calls("nrps"))
    teacher, page = open_assignment(peer, tool_server, role="Instructor", user_id="teacher-1",
                                    resource_link_id=item["resource_link_id"])
    assert len(peer.service_calls("nrps")) - calls_before >= 3      # page size 2: 5+ members, 3+ pages
    names = _names(page)
    assert names[:5] == ["Anna Zed", "Bob Young", "Cara Xu", "Dan Webb", "Eve Vance"]
    assert "teacher" not in " ".join(names).lower()                 # only learners are listed
    assert page.text.count('data-status="Not submitted"') == 4 and 'data-status="Submitted"' in page.text
    assert "1 to grade" in page.text and "4 not handed in" in page.text

    base = page.url.split("?")[0]
    launch = re.search(r"[?&](launch=[^&\"]+)", page.url).group(1)
    by_status = teacher.get(f"{base}?{launch}&sort=status&dir=desc", timeout=30)
    assert _names(by_status)[0] == "Cara Xu"
    by_name_desc = teacher.get(f"{base}?{launch}&sort=name&dir=desc&per_page=5", timeout=30)
    assert _names(by_name_desc)[:2] == ["Eve Vance", "Dan Webb"]
    second = teacher.get(f"{base}?{launch}&sort=name&per_page=2&page=2", timeout=30)
    assert _names(second) == ["Cara Xu", "Dan Webb"] and "Page 2 of 3" in second.text
    assert teacher.get(f"{base}?{launch}&page=abc&sort=bogus", timeout=30).status_code == 200


def test_roster_is_kept_between_clicks_and_read_again_on_request(peer, tool_server):
    item = create_by_deep_link(peer, tool_server)
    peer.add_member(COURSE, "s-anna", "Learner", name="Anna Zed")
    teacher, page = open_assignment(peer, tool_server, role="Instructor", user_id="teacher-1",
                                    resource_link_id=item["resource_link_id"])
    assert "Anna Zed" in _names(page) and "Roster read from the LMS just now" in page.text
    peer.add_member(COURSE, "s-bob", "Learner", name="Bob Young")
    calls = len(peer.service_calls("nrps"))
    base, launch = page.url.split("?")[0], re.search(r"[?&](launch=[^&\"]+)", page.url).group(1)
    sorted_page = teacher.get(f"{base}?{launch}&sort=name&dir=desc", timeout=30)
    assert len(peer.service_calls("nrps")) == calls                  # sorting used the kept roster
    assert "Bob Young" not in _names(sorted_page)
    link = re.search(r'id="refresh-roster" href="([^"]+)"', sorted_page.text).group(1).replace("&amp;", "&")
    fresh = teacher.get(urljoin(page.url, link), timeout=30)
    assert len(peer.service_calls("nrps")) > calls
    assert _names(fresh)[:2] == ["Bob Young", "Anna Zed"]            # read again, sort kept

    # Once the kept copy is older than GRADELOOP_ROSTER_SECONDS, the next click reads it again.
    peer.add_member(COURSE, "s-cara", "Learner", name="Cara Xu")
    calls = len(peer.service_calls("nrps"))
    assert "Cara Xu" not in _names(teacher.get(f"{base}?{launch}", timeout=30))
    assert len(peer.service_calls("nrps")) == calls
    tool_server.app.config["GRADELOOP_ROSTER_SECONDS"] = 0
    expired = teacher.get(f"{base}?{launch}", timeout=30)
    assert len(peer.service_calls("nrps")) > calls and "Cara Xu" in _names(expired)


def test_roster_failure_still_lists_essays(peer, tool_server):
    item = create_by_deep_link(peer, tool_server)
    submit_essay(peer, tool_server, item["resource_link_id"], "s-anna", "Anna's essay.", name="Anna Zed")
    teacher, _ = open_assignment(peer, tool_server, role="Instructor", user_id="teacher-1",
                                 resource_link_id=item["resource_link_id"])
    peer.fail_next(1, status=500, services=("nrps",))
    page = teacher.get(_.url + "&refresh=1", timeout=30)
    assert page.status_code == 200 and "so only students who handed in are listed" in page.text
    assert "Anna Zed" in _names(page)
    # Whoever did not hand in is missing from the list: no count that reads as "all handed in".
    summary = re.search(r'<p class="muted" id="summary">(.*?)</p>', page.text, re.S).group(1)
    assert "0 not handed in" not in summary and "not handed in: not known without the roster" in summary


def test_hand_added_link_is_set_up_and_creates_its_line_item(peer, tool_server):
    peer.add_resource_link(COURSE, "manual-1", title="Argument essay")
    teacher, page = open_assignment(peer, tool_server, role="Instructor", user_id="teacher-1",
                                    resource_link_id="manual-1")
    assert "Set up this essay assignment" in page.text and 'value="Argument essay"' in page.text
    bad = post_form(teacher, page, {"title": "", "score_min": "6", "score_max": "1"})
    assert bad.status_code == 400 and "Give the assignment a title" in bad.text
    done = post_form(teacher, page, {"title": "Argument essay", "prompt": "Argue.", "score_min": "0", "score_max": "100",
                                     "traits": "evidence 0-10"})
    assert done.status_code == 200 and "The assignment is ready." in done.text
    [line_item] = peer.line_items(COURSE)
    assert line_item["resourceLinkId"] == "manual-1" and line_item["scoreMaximum"] == 100
    with tool_server.app.app_context():
        assignment = db.session.scalar(db.select(Assignment))
        assert assignment.lineitem_url == line_item["id"] and assignment.score_min == 0

    student, page = open_assignment(peer, tool_server, role="Learner", user_id="student-1",
                                    resource_link_id="manual-1")
    assert "Hand in your essay" in page.text


def test_hand_added_link_with_existing_line_item_uses_it(peer, tool_server):
    peer.add_resource_link(COURSE, "manual-2", title="Graded in Moodle",
                           line_item={"scoreMaximum": 10, "label": "Graded in Moodle"})
    teacher, page = open_assignment(peer, tool_server, role="Instructor", user_id="teacher-1",
                                    resource_link_id="manual-2")
    post_form(teacher, page, {"title": "Graded in Moodle", "prompt": "Argue.", "score_min": "0", "score_max": "10"})
    assert len(peer.line_items(COURSE)) == 1                         # found, not duplicated
    submit_essay(peer, tool_server, "manual-2", "student-1", "An essay for Moodle.")
    [score] = peer.scores(peer.line_items(COURSE)[0]["id"])
    assert score["gradingProgress"] == "PendingManual"   # no model yet: it waits for the teacher


def test_learner_before_setup_sees_not_ready(peer, tool_server):
    peer.add_resource_link(COURSE, "manual-3", title="Later")
    _, page = open_assignment(peer, tool_server, role="Learner", user_id="student-1", resource_link_id="manual-3")
    assert "not ready yet" in page.text


def test_teacher_edits_the_assignment_and_the_lms_column_follows(peer, tool_server):
    """A typo in the title or instructions can be fixed at any time, and the LMS column's name and
    maximum follow; the scale and traits change only until the first grade."""
    peer.add_resource_link(COURSE, "manual-2", title="Argument essay")
    teacher, page = open_assignment(peer, tool_server, role="Instructor", user_id="teacher-1",
                                    resource_link_id="manual-2")
    post_form(teacher, page, {"title": "Argumnet essay", "prompt": "Argue.", "score_min": "1", "score_max": "6"})
    settings = teacher.get(_link(teacher.get(tool_server.url + "/coursework/", timeout=30), "/settings"), timeout=30)
    edit = teacher.get(_link(settings, "/edit"), timeout=30)
    assert edit.status_code == 200 and 'value="Argumnet essay"' in edit.text and "readonly" not in edit.text
    assert 'aria-required="true"' not in edit.text.split('id="prompt"')[1].split(">")[0], \
        "an older assignment saved without a prompt can still be edited"
    saved = post_form(teacher, edit, {"title": "Argument essay", "prompt": "Argue for one side.",
                                      "score_max": "10", "traits": "evidence 1-4"})
    assert saved.status_code == 200 and "Assignment saved." in saved.text
    [line_item] = peer.line_items(COURSE)
    assert line_item["label"] == "Argument essay" and line_item["scoreMaximum"] == 10

    submit_essay(peer, tool_server, "manual-2", "student-1", "Cars should leave the city centre.")
    with tool_server.app.app_context():
        from lti_app.coursework.grading import save_grade
        from lti_app.models import Submission

        assignment = db.session.scalar(db.select(Assignment).filter_by(title="Argument essay"))
        save_grade(assignment, db.session.scalar(db.select(Submission)), {"score": 7}, None)
        db.session.commit()
        assignment_id = assignment.id
    edit = teacher.get(edit.url, timeout=30)
    assert "fixed once essays are graded" in edit.text and edit.text.count("readonly") == 3
    refused = post_form(teacher, edit, {"score_max": "6", "prompt": "Argue for one side, with two sources."})
    assert refused.status_code == 400 and "cannot change once essays are graded" in refused.text
    # The stored scale is shown again (its fields are read-only now); the typed instructions are kept.
    assert 'value="10"' in refused.text and "Argue for one side, with two sources." in refused.text
    renamed = post_form(teacher, edit, {"title": "Argument essay (final)"})   # the scale as shown: fine
    assert "Assignment saved." in renamed.text and peer.line_items(COURSE)[0]["label"] == "Argument essay (final)"
    with tool_server.app.app_context():
        assignment = db.session.get(Assignment, assignment_id)
        assert (assignment.score_max, assignment.traits[0]["max"], assignment.prompt) == (10, 4, "Argue for one side.")
    again = post_form(teacher, refused, {"title": "Argument essay (final, 2)"})   # the refused page saves as is
    assert "Assignment saved." in again.text
    with tool_server.app.app_context():
        assert db.session.get(Assignment, assignment_id).prompt == "Argue for one side, with two sources."


def _link(page, contains: str) -> str:
    hrefs = [h.replace("&amp;", "&") for h in re.findall(r'href="([^"]+)"', page.text) if contains in h]
    assert hrefs, f"no link containing {contains!r} on {page.url}"
    return urljoin(page.url, hrefs[0])


def test_anonymous_grading_hides_the_roster_names_too(peer, tool_server):
    """With a class list beside the essays, elimination would name the last essays: students who
    have not handed in are listed without a name as well."""
    item = create_by_deep_link(peer, tool_server)
    for user_id, name in STUDENTS:
        peer.add_member(COURSE, user_id, "Learner", name=name, email=f"{user_id}@school.example")
    submit_essay(peer, tool_server, item["resource_link_id"], "s-cara", "Cara's essay on uniforms.")
    with tool_server.app.app_context():
        db.session.scalar(db.select(Assignment)).anonymous_grading = True
        db.session.commit()
    _, page = open_assignment(peer, tool_server, role="Instructor", user_id="teacher-1",
                              resource_link_id=item["resource_link_id"])
    names = _names(page)
    assert sorted(names)[1:] == ["Not handed in yet"] * 4 and re.fullmatch(r"Essay #\d+", sorted(names)[0])
    assert not [n for _, n in STUDENTS if n in page.text] and "@school.example" not in page.text


def test_a_setup_that_loses_the_race_goes_to_the_winners_assignment(client, app, world):
    """Two tabs set up the same hand-added link at once: one assignment per link, so the losing
    post's insert fails; it rolls back and opens the assignment the other tab made. The other
    tab's insert is made here, between this post's check and its flush."""
    from lti_app.models import ResourceLink, Role
    from tests.coursework.helpers import count, login, other_tab_first

    with app.app_context():
        link = ResourceLink(course_id=world.course_a, resource_link_id="rl-by-hand", title="Essay 2")
        db.session.add(link)
        db.session.commit()
        link_id = link.id
    token = login(client, app, course_id=world.course_a, user_id=world.teacher_a, role=Role.INSTRUCTOR,
                  resource_link_id=link_id)

    other = db.insert(Assignment).values(course_id=world.course_a, resource_link_id=link_id, title="Other tab",
                                         score_min=1, score_max=6, resource_id="gl-other", traits=[], prompt="")
    with other_tab_first(app, "This tab", other):
        lost = client.post("/coursework/setup", data={"csrf_token": token, "title": "This tab", "prompt": "Argue.",
                                                      "score_min": "1", "score_max": "6"})
    with app.app_context():
        winner = db.session.scalar(db.select(Assignment).filter_by(resource_link_id=link_id))
        assert winner.title == "Other tab" and count(Assignment, title="This tab") == 0
    assert lost.status_code in (302, 303) and f"/coursework/a/{winner.id}" in lost.location
