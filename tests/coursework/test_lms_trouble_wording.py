"""What a teacher who does not know "AGS" or "HTTP 503" reads when the LMS is in the way: a column
the LMS will not let Gradeloop change (Moodle's "grade sync only"), a column change the LMS cannot
take now, a course roster that cannot be read, and a grade the LMS did not answer for, which the
grading page and the essay list must both call waiting (Gradeloop sends it), not failed."""
import html
import re
from urllib.parse import urljoin

import pytest

from lti_app.coursework import lms_quiet
from lti_app.extensions import db
from lti_app.models import Assignment
from tests.coursework.flows import (approve_while_the_lms_does_not_answer, create_by_deep_link, grade_page_for,
                                    graded_while_lms_down, open_assignment, post_form, submit_essay)

ESSAY = "A four-day week would give students time to rest.\n\nIt would also save energy."
JARGON = ("HTTP", "AGS", "the grade:", "reading the gradebook column")


def _notices(page) -> list[tuple[str, str, str]]:
    """(category, role, words) of each notice on the page."""
    found = re.findall(r'<(?:div|form)([^>]*class="notice notice-(\w+)"[^>]*)>(.*?)</(?:div|form)>', page.text, re.S)
    return [(category, (re.findall(r'role="(\w+)"', tag) or [""])[0],
             " ".join(html.unescape(re.sub(r"<[^>]+>", "", words)).split())) for tag, category, words in found]


def _edit_page(teacher, tool):
    with tool.app.app_context():
        assignment_id = db.session.scalar(db.select(Assignment.id))
    return teacher.get(f"{tool.url}/coursework/a/{assignment_id}/edit", timeout=30)


def _grade_sync_only(make_peer, tool):
    """A Moodle course whose tool may send grades and read the column, not change it."""
    lms = make_peer(product_family="moodle")
    item = create_by_deep_link(lms, tool, title="Persuasive essay")
    lms.state.tool.scopes = tuple(s for s in lms.state.tool.scopes if not s.endswith("/scope/lineitem"))
    teacher, _ = open_assignment(lms, tool, role="Instructor", user_id="teacher-1",
                                 resource_link_id=item["resource_link_id"])
    return lms, teacher


@pytest.mark.parametrize("form, kept, asked", [
    ({"title": "Persuasive essay (final)"}, "keeps its old name.",
     "Rename it in Moodle to \u201cPersuasive essay (final)\u201d."),
    ({"score_max": "4"}, "keeps its old maximum.", "Set its maximum in Moodle to 4."),
    ({"title": "Persuasive essay (final)", "score_max": "4"}, "keeps its old name and maximum.",
     "Change them in Moodle to \u201cPersuasive essay (final)\u201d, out of 4."),
])
def test_a_column_moodle_will_not_let_gradeloop_change_is_changed_there(make_peer, tool_server, form, kept, asked):
    lms, teacher = _grade_sync_only(make_peer, tool_server)
    saved = post_form(teacher, _edit_page(teacher, tool_server), form, action_contains="/edit")
    [(category, _, words)] = _notices(saved)
    assert category == "warning"
    assert words == ("Assignment saved. Moodle does not let Gradeloop change this assignment's column in its "
                     f"gradebook, so the column {kept} {asked}"), words
    assert "for now" not in words and words.count(":") == 0
    assert (lms.line_items()[0]["label"], lms.line_items()[0]["scoreMaximum"]) == ("Persuasive essay", 6)


def _renamed_while_the_lms_is_down(peer, tool_server) -> tuple[str, str]:
    """(category, words) of the edit's notice."""
    item = create_by_deep_link(peer, tool_server)
    teacher, _ = open_assignment(peer, tool_server, role="Instructor", user_id="teacher-1",
                                       resource_link_id=item["resource_link_id"])
    edit = _edit_page(teacher, tool_server)
    peer.fail_next(10, status=503)
    [(category, _, words)] = _notices(post_form(teacher, edit, {"title": "Renamed while down"},
                                                action_contains="/edit"))
    return category, words


@pytest.mark.usefixtures("worker_beating")
def test_a_column_change_the_lms_cannot_take_now_is_for_now(peer, tool_server):
    category, words = _renamed_while_the_lms_is_down(peer, tool_server)
    assert category == "warning"
    assert words == ("Assignment saved. The LMS is not answering Gradeloop right now, so the assignment's "
                     "gradebook column keeps its old name for now; Gradeloop changes it as soon as the LMS "
                     "answers."), words


def test_a_column_change_nothing_retries_says_who_starts_the_worker(peer, tool_server):
    """No worker takes gradebook work: nothing changes the column later (saving again would not
    either: nothing differs any more), and a column left at an old maximum scales every grade."""
    category, words = _renamed_while_the_lms_is_down(peer, tool_server)
    assert category == "warning"
    assert words == ("Assignment saved. The LMS is not answering Gradeloop right now, so the assignment's "
                     "gradebook column keeps its old name, and nothing changes it later: Gradeloop's background "
                     "worker, which sends grades to the LMS, is not running. Ask your Gradeloop administrator to "
                     "start the worker, which then changes it, or change it in the LMS yourself."), words


def test_a_roster_that_cannot_be_read_says_what_is_missing_and_offers_to_read_it_again(peer, tool_server):
    item = create_by_deep_link(peer, tool_server)
    submit_essay(peer, tool_server, item["resource_link_id"], "student-1", ESSAY, name="Ada Student")
    peer.add_member("course-1", "student-2", "Learner", name="Bo Student")
    peer.fail_next(3, status=503, services=("nrps",))
    teacher, listing = open_assignment(peer, tool_server, role="Instructor", user_id="teacher-1",
                                       resource_link_id=item["resource_link_id"])
    [(category, _, words)] = [n for n in _notices(listing) if "roster" in n[2]]
    assert category == "warning"
    assert words == ("The LMS did not answer when Gradeloop read the course roster just now, so only students "
                     "who handed in are listed. Read it again"), words
    assert "Bo Student" not in listing.text
    link = re.search(r'id="refresh-roster" href="([^"]+)"', listing.text).group(1).replace("&amp;", "&")
    with peer.state.lock:   # the LMS answers again
        peer.state.failures.clear()
    again = teacher.get(urljoin(listing.url, link), timeout=30)
    assert "Bo Student" in again.text and not [n for n in _notices(again) if "roster" in n[2]]


@pytest.mark.usefixtures("worker_beating")
def test_a_grade_the_lms_did_not_answer_for_reads_as_waiting_on_both_pages(peer, tool_server):
    item, teacher, [saved], listing = graded_while_lms_down(peer, tool_server, ESSAY)
    [(category, role, words)] = _notices(saved)
    assert (category, role) == ("warning", "status")
    assert "nothing for you to do" in words and "\u201cWaiting for the LMS\u201d" in words
    assert not any(j in words for j in JARGON), words
    sync_state = re.search(r'id="sync-state">(.*?)</p>', saved.text, re.S).group(1)
    assert sync_state.split()[:4] == ["Waiting", "for", "the", "LMS."] and "HTTP" not in sync_state, sync_state
    row = re.search(r'data-label="LMS">(.*?)</td>', listing.text, re.S).group(1)
    assert "<summary>Waiting for the LMS</summary>" in row and "Not sent" not in row and "HTTP" not in row
    [(_, _, banner)] = [n for n in _notices(listing) if "LMS" in n[2]]
    assert banner.startswith("1 grade is waiting for the LMS; Gradeloop keeps sending it on its own. There is "
                             "nothing you need to do"), banner
    assert "Send to the LMS again" in banner
    resent = post_form(teacher, listing, action_contains="/resend")
    assert "1 grade sent to the LMS gradebook." in resent.text
    assert peer.results(item["line_item_id"], "student-1")[0]["resultScore"] == 3


@pytest.mark.usefixtures("worker_beating")
def test_a_grade_saved_while_the_lms_is_quiet_is_counted_as_waiting(peer, tool_server):
    """The second save is not tried (the LMS did not answer a moment ago): it is waiting as well, so
    the banner's count is what "Send to the LMS again" then sends."""
    item, teacher, saved, listing = graded_while_lms_down(peer, tool_server, ESSAY, ("Ada Student", "Bo Student"))
    assert [_notices(page)[0][0] for page in saved] == ["warning", "warning"]
    assert listing.text.count("<summary>Waiting for the LMS</summary>") == 2 and ">Sending<" not in listing.text
    [(_, _, banner)] = [n for n in _notices(listing) if "LMS" in n[2]]
    assert banner.startswith("2 grades are waiting for the LMS"), banner
    assert "2 grades sent to the LMS gradebook." in post_form(teacher, listing, action_contains="/resend").text


@pytest.mark.usefixtures("worker_beating")
def test_a_grade_not_sent_for_a_day_still_shows_as_waiting_without_the_quiet(peer, tool_server, monkeypatch):
    """A grade no attempt has answered for longer than the quiet lasts (no worker sent it) waits too."""
    item, _, _, listing = graded_while_lms_down(peer, tool_server, ESSAY, ("Ada Student", "Bo Student"))
    monkeypatch.setattr(lms_quiet, "QUIET_S", 0.0)
    teacher, listing = open_assignment(peer, tool_server, role="Instructor", user_id="teacher-1",
                                       resource_link_id=item["resource_link_id"])
    assert listing.text.count("<summary>Waiting for the LMS</summary>") == 2


@pytest.mark.usefixtures("worker_beating")
def test_a_refused_grade_still_asks_the_teacher_to_act(peer, tool_server):
    item = create_by_deep_link(peer, tool_server)
    submit_essay(peer, tool_server, item["resource_link_id"], "student-1", ESSAY, name="Ada Student")
    submit_essay(peer, tool_server, item["resource_link_id"], "student-2", ESSAY, name="Bo Student")
    teacher, listing = open_assignment(peer, tool_server, role="Instructor", user_id="teacher-1",
                                       resource_link_id=item["resource_link_id"])
    peer.fail_next(1, status=400, match="/scores")
    refused = post_form(teacher, grade_page_for(teacher, listing, "Ada Student"), {"score": "3"},
                        action_contains="/essays/")
    assert [(c, r) for c, r, _ in _notices(refused)] == [("error", "alert")]
    peer.fail_next(1, status=503, match="/scores")
    post_form(teacher, grade_page_for(teacher, listing, "Bo Student"), {"score": "4"}, action_contains="/essays/")
    listing = teacher.get(listing.url, timeout=30)
    assert "<summary>Not sent</summary>" in listing.text
    assert "<summary>Waiting for the LMS</summary>" in listing.text
    [(_, _, banner)] = [n for n in _notices(listing) if "LMS" in n[2]]
    assert banner.startswith("1 grade is not in the LMS gradebook, and Gradeloop is not trying again: "
                             "\u201cNot sent\u201d below says why. 1 more grade is waiting for the LMS"), banner
    assert "nothing you need to do" not in banner


@pytest.mark.usefixtures("worker_beating")
def test_a_proposal_approved_while_the_lms_does_not_answer_reads_as_waiting(peer, tool_server):
    """The review page says what the grading page says: a grade Gradeloop keeps sending is
    waiting, not an error."""
    approved = approve_while_the_lms_does_not_answer(peer, tool_server, ESSAY)
    [(category, role, words)] = [n for n in _notices(approved) if "LMS" in n[2]]
    assert category == "warning" and "nothing for you to do" in words, words
    assert not any(j in words for j in JARGON), words
