"""Which text is handed in when a student both chooses a file and types: never one of them thrown
away silently. The page used to keep the file and drop the pasted essay while saying "handed in"."""
import io

from lti_app.extensions import db
from lti_app.models import Role, Submission, SubmissionStatus
from tests.coursework.helpers import count, login


def _hand_in(client, app, world, **data):
    token = login(client, app, course_id=world.course_a, user_id=world.student2_a, role=Role.LEARNER,
                  resource_link_id=world.link_a)
    if "file" in data:
        name, body = data.pop("file")
        data["file"] = (io.BytesIO(body), name)
    return client.post(f"/coursework/a/{world.assignment_a}/essay", data={"csrf_token": token, **data},
                       content_type="multipart/form-data", follow_redirects=True)


def test_a_file_and_different_typed_text_are_refused_and_the_text_given_back(client, app, world):
    answer = _hand_in(client, app, world, text="My pasted essay about phones in school.",
                      file=("other.txt", b"A different essay from a file."))
    page = answer.get_data(as_text=True)
    assert answer.status_code == 400 and "Hand in one of them" in page
    assert "My pasted essay about phones in school." in page
    with app.app_context():
        assert count(Submission, user_id=world.student2_a) == 0


def test_a_file_alone_is_handed_in_and_the_page_says_so(client, app, world):
    answer = _hand_in(client, app, world, text="", file=("essay.txt", b"An essay from a file."))
    assert answer.status_code == 200 and "handed in from the file essay.txt" in answer.get_data(as_text=True)


def test_a_returned_essay_revised_from_a_file_leaves_the_box_as_it_started(client, app, world):
    """The box of a returned essay starts from its text: choosing a file without touching it sends
    the file as the new version."""
    assert _hand_in(client, app, world, text="First version.").status_code == 200
    with app.app_context():
        essay = db.session.scalar(db.select(Submission).filter_by(user_id=world.student2_a))
        essay.status = SubmissionStatus.RETURNED
        db.session.commit()
    answer = _hand_in(client, app, world, text="First version.", file=("v2.txt", b"Second version, rewritten."))
    assert answer.status_code == 200
    with app.app_context():
        assert db.session.scalar(db.select(Submission).filter_by(user_id=world.student2_a)).text == \
            "Second version, rewritten."


def test_the_same_essay_pasted_and_attached_is_handed_in(client, app, world):
    answer = _hand_in(client, app, world, text="An essay from a file.", file=("essay.txt", b"An essay from a file."))
    assert answer.status_code == 200 and "handed in from the file essay.txt" in answer.get_data(as_text=True)


def test_a_page_opened_while_the_essay_was_returned_still_knows_its_box(client, app, world):
    """The page was opened while the essay was returned (its box filled with the old text); the
    essay was handed in again from another tab meanwhile. Choosing a file without touching the box
    is not "typed text as well"."""
    assert _hand_in(client, app, world, text="First version.").status_code == 200
    from lti_app.coursework.submissions import box_digest

    with app.app_context():
        db.session.scalar(db.select(Submission).filter_by(user_id=world.student2_a)).status = SubmissionStatus.RETURNED
        db.session.commit()
    assert _hand_in(client, app, world, text="Second version, from the other tab.").status_code == 200
    answer = _hand_in(client, app, world, text="First version.", text_start=box_digest("First version."),
                      file=("v3.txt", b"Third version."))
    assert answer.status_code == 200
    with app.app_context():
        assert db.session.scalar(db.select(Submission).filter_by(user_id=world.student2_a)).text == "Third version."
