"""Requests the router or the form parser refuses say what is wrong: a wrong method or an unknown
address is a 405 or 404 (not "your session has ended"), and an over-long pasted essay meets the
essay's own length check (with its text given back), not a generic "upload too large"."""
import pytest

from lti_app.models import Role, Submission
from tests.coursework.helpers import count, login


@pytest.mark.parametrize("method, path, status", [("post", "/healthz", 405), ("delete", "/lti/jwks", 405),
                                                  ("post", "/no-such-page", 404)])
def test_a_wrong_method_or_address_is_named_as_such(client, method, path, status):
    answer = getattr(client, method)(path)
    assert answer.status_code == status and "session has ended" not in answer.get_data(as_text=True)


def test_an_over_long_pasted_essay_is_told_its_length(client, app, world):
    token = login(client, app, course_id=world.course_a, user_id=world.student2_a, role=Role.LEARNER,
                  resource_link_id=world.link_a)
    essay = "Phones belong in the classroom because they help. " * 12_000   # 599,999 characters, stripped
    answer = client.post(f"/coursework/a/{world.assignment_a}/essay", content_type="multipart/form-data",
                         data={"csrf_token": token, "text": essay})
    page = answer.get_data(as_text=True)
    assert answer.status_code == 400 and "The essay has 599,999 characters; the limit is 100,000" in page
    assert "Phones belong in the classroom because they help." in page, "the text is given back"
    with app.app_context():
        assert count(Submission, user_id=world.student2_a) == 0
