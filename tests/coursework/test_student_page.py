"""The student's essay page as a grade 6-12 student reads it (Flask test client, fresh SQLite):
written feedback's "- " points are a real list, not "dash …" read aloud; the LMS is named the way
students name it; a box the page filled is labelled for editing; a graded essay says why there
is no hand-in form; a very short essay is handed in only once confirmed, one with no words not at
all; a too-long essay is told what to do next and what stays handed in."""
from __future__ import annotations

import html
import re

import pytest

from lti_app.coursework import lms_sync
from lti_app.extensions import db
from lti_app.models import Grade, GradeSource, Platform, Role, Submission, SubmissionStatus
from tests import heartbeats
from tests.coursework.helpers import login

FIRST = "My essay about things."   # student 1's essay in the world


def _student(client, app, world, who="student1_a", **launch):
    return login(client, app, course_id=world.course_a, user_id=getattr(world, who), role=Role.LEARNER,
                 resource_link_id=world.link_a, platform_id=world.platform, **launch)


def _url(world) -> str:
    return f"/coursework/a/{world.assignment_a}/essay"


def _text(markup: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", markup)).split())


def _box(page: str) -> str:
    return html.unescape(re.search(r'<textarea id="text"[^>]*>(.*?)</textarea>', page, re.S).group(1))


def _graded(app, world, comment: str, status=SubmissionStatus.GRADED) -> None:
    with app.app_context():
        db.session.add(Grade(submission_id=world.essay_a, score=4, comment=comment, source=GradeSource.TEACHER,
                             score_min=1, score_max=6, grader_id=world.teacher_a))
        db.session.get(Submission, world.essay_a).status = status
        db.session.commit()


def _family(app, world, family: str | None) -> None:
    with app.app_context():
        db.session.get(Platform, world.platform).product_family = family
        db.session.commit()


def _stored(app, world, who="student2_a") -> Submission | None:
    with app.app_context():
        return db.session.scalar(db.select(Submission).filter_by(user_id=getattr(world, who)))


# -- 2. feedback as a list ---------------------------------------------------------------------

def test_feedback_points_are_a_list_and_paragraphs_stay_paragraphs(client, app, world):
    _graded(app, world, "Good start.\nYou kept to the topic.\n\n- This essay has a clear claim.\n"
                        "- Add <b>evidence</b> & a source.\nKeep going!")
    _student(client, app, world)
    page = client.get(_url(world)).get_data(as_text=True)
    feedback = re.search(r'<div id="feedback" class="feedback">(.*?)</div>', page, re.S).group(1)
    assert feedback == ('<p class="essay">Good start.\nYou kept to the topic.</p>'
                        '<ul><li class="essay">This essay has a clear claim.</li>'
                        '<li class="essay">Add &lt;b&gt;evidence&lt;/b&gt; &amp; a source.</li></ul>'
                        '<p class="essay">Keep going!</p>')
    assert "- This essay" not in page


# -- 3. the LMS by the name students know -------------------------------------------------------

def _handed_in_while_the_lms_is_down(client, app, world, monkeypatch) -> str:
    """The hand-in's notice when the gradebook did not hear of it."""
    monkeypatch.setattr(lms_sync, "push_submission_now", lambda submission_id: "the LMS did not answer")
    csrf = _student(client, app, world, "student2_a")
    page = client.post(_url(world), data={"csrf_token": csrf, "text": "Cars should leave the city centre."},
                       follow_redirects=True).get_data(as_text=True)
    return re.search(r"Your essay was handed in\.[^<]*", page).group(0).strip()


@pytest.mark.parametrize("family, said", [("canvas", "Canvas will show it in your grades shortly."),
                                          ("moodle", "Moodle will show it in your grades shortly."),
                                          (None, "Your course page will show it shortly.")])
def test_a_hand_in_the_gradebook_has_not_heard_of_names_the_lms_as_students_do(client, app, world, monkeypatch,
                                                                              family, said):
    _family(app, world, family)
    heartbeats.beat(app)   # a worker tells the gradebook
    assert _handed_in_while_the_lms_is_down(client, app, world, monkeypatch) == f"Your essay was handed in. {said}"


@pytest.mark.parametrize("family, said", [
    ("canvas", "Canvas may take a while to show it in your grades; your teacher can already see it in Gradeloop."),
    (None, "Your course page may take a while to show it; your teacher can already see it in Gradeloop.")])
def test_a_hand_in_nothing_tells_the_gradebook_of_promises_nothing(client, app, world, monkeypatch, family, said):
    """No worker takes gradebook work: nothing tells the LMS until one starts, so "shortly" would
    be untrue. The student is not sent to an administrator: their teacher has the essay."""
    _family(app, world, family)
    assert _handed_in_while_the_lms_is_down(client, app, world, monkeypatch) == f"Your essay was handed in. {said}"


@pytest.mark.parametrize("family, where", [("moodle", "Go back to your course in Moodle and open Gradeloop"),
                                           (None, "Go back to your course page and open Gradeloop")])
@pytest.mark.parametrize("expires_in", [3600, -60])   # a stale form, and a session that ended
def test_the_session_ended_page_names_the_lms_as_students_do(client, app, world, family, where, expires_in):
    _family(app, world, family)
    _student(client, app, world, expires_in=expires_in)
    refused = client.post(_url(world), data={"csrf_token": "stale", "text": "Mine."},
                          headers={"Origin": "http://localhost"})
    message = _text(re.search(r'<p class="error-message".*?</p>', refused.get_data(as_text=True), re.S).group(0))
    assert refused.status_code == 403 and where in message
    assert "LMS" not in message and "not sent from a Gradeloop page" not in message


# -- 4. a filled box is edited --------------------------------------------------------------------

def test_a_returned_essay_is_edited_in_a_box_labelled_for_it(client, app, world):
    _graded(app, world, "Add evidence.", status=SubmissionStatus.RETURNED)
    _student(client, app, world)
    page = client.get(_url(world)).get_data(as_text=True)
    assert '<label for="text">Your essay</label>' in page and "Paste your essay" not in page
    assert "Edit your essay below, then hand it in again." in page and _box(page) == FIRST


def test_a_new_version_starts_from_the_current_one_and_a_file_may_still_replace_it(client, app, world):
    from tests.coursework.helpers import docx_bytes

    csrf = _student(client, app, world)
    page = client.get(_url(world)).get_data(as_text=True)
    assert _box(page) == FIRST and '<label for="text">Your essay</label>' in page
    start = re.search(r'name="text_start" value="([^"]+)"', page).group(1)
    fixed = client.post(_url(world), data={"csrf_token": csrf, "text": FIRST.replace("things", "cars"),
                                           "text_start": start})
    assert fixed.status_code == 303 and _stored(app, world, "student1_a").text == "My essay about cars."
    page = client.get(_url(world)).get_data(as_text=True)
    start = re.search(r'name="text_start" value="([^"]+)"', page).group(1)
    # The box as the page filled it, and a file: the file is what the student means to send.
    sent = client.post(_url(world), data={"csrf_token": csrf, "text": _box(page), "text_start": start,
                                          "file": (__import__("io").BytesIO(docx_bytes("A file about buses.")),
                                                   "essay.docx")})
    assert sent.status_code == 303 and _stored(app, world, "student1_a").text == "A file about buses."


def test_a_first_hand_in_starts_from_an_empty_box_to_paste_into(client, app, world):
    _student(client, app, world, "student2_a")
    page = client.get(_url(world)).get_data(as_text=True)
    assert '<label for="text">Paste your essay</label>' in page and _box(page) == ""


# -- 5. why there is no form ----------------------------------------------------------------------

def test_a_graded_essay_says_why_it_cannot_be_handed_in_again(client, app, world):
    _graded(app, world, "Clear.")
    _student(client, app, world)
    page = client.get(_url(world)).get_data(as_text=True)
    assert 'id="text"' not in page
    assert "Your essay has been graded. Ask your teacher if you want to hand in a new version." in page


# -- 6. short essays and essays without words ----------------------------------------------------

def test_a_short_essay_is_handed_in_once_the_student_confirms_it(client, app, world):
    app.config["GRADELOOP_SHORT_ESSAY_WORDS"] = 50
    csrf = _student(client, app, world, "student2_a")
    asked = client.post(_url(world), data={"csrf_token": csrf, "text": "Mars is rock."})
    page = asked.get_data(as_text=True)
    assert asked.status_code == 200 and "Your essay has only 3 words. Hand it in anyway?" in page
    assert _box(page) == "Mars is rock." and _stored(app, world) is None
    assert re.search(r'<button type="submit">Hand it in anyway</button>', page)
    confirm = re.search(r'name="short_ok" value="([^"]+)"', page).group(1)
    edited = client.post(_url(world), data={"csrf_token": csrf, "text": "Mars is red rock.", "short_ok": confirm})
    assert "Your essay has only 4 words" in edited.get_data(as_text=True) and _stored(app, world) is None
    sent = client.post(_url(world), data={"csrf_token": csrf, "text": "Mars is rock.", "short_ok": confirm})
    assert sent.status_code == 303 and _stored(app, world).text == "Mars is rock."
    # A short answer confirmed once is not asked about again when a typo is fixed.
    again = client.post(_url(world), data={"csrf_token": csrf, "text": "Mars is a rock."})
    assert again.status_code == 303 and _stored(app, world).text == "Mars is a rock."


def test_an_essay_long_enough_is_not_asked_about(client, app, world):
    app.config["GRADELOOP_SHORT_ESSAY_WORDS"] = 5
    csrf = _student(client, app, world, "student2_a")
    sent = client.post(_url(world), data={"csrf_token": csrf, "text": "Mars is a cold red rock."})
    assert sent.status_code == 303


@pytest.mark.parametrize("text", ["🚀🌕✨", "!!! ??? ...", "😀 😀 😀\n\n👍"])
def test_an_essay_without_words_is_refused_and_kept(client, app, world, text):
    csrf = _student(client, app, world, "student2_a")
    refused = client.post(_url(world), data={"csrf_token": csrf, "text": text})
    page = refused.get_data(as_text=True)
    assert refused.status_code == 400 and "Your essay contains no words" in page
    assert _box(page) == text and _stored(app, world) is None


# -- 7. too long: what next ----------------------------------------------------------------------

@pytest.mark.parametrize("who, earlier", [("student1_a", True), ("student2_a", False)])
def test_a_too_long_essay_says_by_how_much_and_what_stays_handed_in(client, app, world, who, earlier):
    app.config["GRADELOOP_MAX_ESSAY_CHARS"] = 50
    csrf = _student(client, app, world, who)
    refused = client.post(_url(world), data={"csrf_token": csrf, "text": "word " * 12})   # 59 characters
    page = _text(refused.get_data(as_text=True))
    assert refused.status_code == 400
    assert ("The essay has 59 characters; the limit is 50. Shorten it by 9 characters and hand it in again."
            in page)
    assert ("Your earlier version is still the one handed in." in page) is earlier


# -- 1. the poll's news names its link ------------------------------------------------------------

def test_the_polled_state_offers_the_feedback(client, app, world):
    _student(client, app, world)
    _graded(app, world, "Clear.")
    state = client.get(f"{_url(world)}/state.json").get_json()
    assert state["news"] == "Your essay has been graded." and state["action"] == "Show my feedback"
