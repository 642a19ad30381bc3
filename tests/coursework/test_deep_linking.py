"""Deep Linking response details and refusals (test client; the full round trip through the peer
is in test_lms_flow)."""
import re

import jwt

from lti_app.extensions import db
from lti_app.lti import keys
from lti_app.models import Assignment, DeepLinkingRequest, Role
from tests.coursework.helpers import count, login, other_tab_first

SETTINGS = {"deep_link_return_url": "https://lms.example/dl/return", "accept_types": ["ltiResourceLink"],
            "data": "opaque-123", "title": "Essay"}


def _dl_launch(client, app, world, settings):
    launch_id = "dl-launch-1"
    with app.app_context():
        db.session.add(DeepLinkingRequest(launch_id=launch_id, platform_id=world.platform, deployment_id="dep-1",
                                          settings=settings))
        db.session.commit()
    return login(client, app, course_id=world.course_a, user_id=world.teacher_a, role=Role.INSTRUCTOR,
                 launch_id=launch_id)


def test_response_jwt_claims(client, app, world):
    token = _dl_launch(client, app, world, SETTINGS)
    landing = client.get("/coursework/")
    assert landing.status_code == 302 and "/coursework/deep-link" in landing.location
    page = client.post("/coursework/deep-link", data={"csrf_token": token, "title": "Climate essay",
                                                      "prompt": "Argue.", "score_min": "0", "score_max": "100"})
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'action="https://lms.example/dl/return"' in html
    encoded = html.split('name="JWT" value="')[1].split('"')[0]
    header = jwt.get_unverified_header(encoded)
    with app.app_context():
        public = jwt.PyJWK(next(k for k in keys.public_jwks()["keys"] if k["kid"] == header["kid"]))
        assignment = db.session.scalar(db.select(Assignment).filter_by(title="Climate essay"))
        resource_id = assignment.resource_id
    claims = jwt.decode(encoded, public.key, algorithms=["RS256"], audience="https://lms.example")
    lti = "https://purl.imsglobal.org/spec/lti/claim/"
    dl = "https://purl.imsglobal.org/spec/lti-dl/claim/"
    assert claims["iss"] == "tool-1" and claims["nonce"] and claims[lti + "deployment_id"] == "dep-1"
    assert claims[lti + "message_type"] == "LtiDeepLinkingResponse" and claims[lti + "version"] == "1.3.0"
    assert claims[dl + "data"] == "opaque-123"
    [item] = claims[dl + "content_items"]
    assert item["type"] == "ltiResourceLink" and item["custom"] == {"gradeloop_assignment": resource_id}
    assert item["lineItem"] == {"scoreMaximum": 100, "label": "Climate essay", "resourceId": resource_id,
                                "tag": "gradeloop-essay"}


def test_a_second_post_of_the_form_adds_no_twin(client, app, world):
    """Back button or a second tab: the launch was answered, so the form's second post is told
    the assignment was added, with a button (not an automatic post) to send it once more."""
    token = _dl_launch(client, app, world, SETTINGS)
    form = {"csrf_token": token, "title": "Climate essay", "prompt": "Argue.", "score_min": "0", "score_max": "100"}
    assert client.post("/coursework/deep-link", data=form).status_code == 200
    again = client.post("/coursework/deep-link", data={**form, "title": "Climate essay, second try"})
    html = again.get_data(as_text=True)
    assert again.status_code == 409 and "“Climate essay” was already added" in html
    assert 'action="https://lms.example/dl/return"' in html and "getElementById(\"dl-return\").submit()" not in html
    encoded = html.split('name="JWT" value="')[1].split('"')[0]
    [item] = jwt.decode(encoded, options={"verify_signature": False})[
        "https://purl.imsglobal.org/spec/lti-dl/claim/content_items"]
    back = client.get("/coursework/deep-link")
    assert back.status_code == 200 and "was already added" in back.get_data(as_text=True)
    with app.app_context():
        [assignment] = db.session.scalars(db.select(Assignment).filter(Assignment.title.like("Climate essay%"))).all()
        assert item["custom"] == {"gradeloop_assignment": assignment.resource_id}
        db.session.delete(assignment)   # the teacher deleted the course's data meanwhile
        db.session.commit()
    gone = client.post("/coursework/deep-link", data=form)
    assert gone.status_code in (400, 410) and "add content" in gone.get_data(as_text=True)
    with app.app_context():
        assert count(Assignment, title="Climate essay") == 0


def test_a_post_that_loses_the_race_creates_nothing(client, app, world):
    """Two posts at once: the one whose claim on the launch changes no row rolls back its
    assignment. The other post's claim is made here between this post's read and its claim."""
    token = _dl_launch(client, app, world, SETTINGS)
    with app.app_context():
        other = Assignment(course_id=world.course_a, title="From the other tab", score_min=1, score_max=6,
                           resource_id="gl-other-tab")
        db.session.add(other)
        db.session.commit()
        other_id = other.id

    with other_tab_first(app, "Climate essay", db.update(DeepLinkingRequest).values(answered_assignment_id=other_id)):
        lost = client.post("/coursework/deep-link", data={"csrf_token": token, "title": "Climate essay", "prompt": "Argue.",
                                                          "score_min": "1", "score_max": "6"})
    assert lost.status_code == 409 and "“From the other tab” was already added" in lost.get_data(as_text=True)
    with app.app_context():
        assert count(Assignment, title="Climate essay") == 0


def test_form_errors_create_nothing(client, app, world):
    token = _dl_launch(client, app, world, SETTINGS)
    page = client.post("/coursework/deep-link", data={"csrf_token": token, "title": "X", "prompt": "Argue.", "score_min": "5",
                                                      "score_max": "5", "traits": "cohesion five"})
    assert page.status_code == 400 and "highest score must be above the lowest" in page.get_data(as_text=True)
    with app.app_context():
        assert count(Assignment) == 2   # the world's two only


def test_refusals(client, app, world):
    login(client, app, course_id=world.course_a, user_id=world.teacher_a, role=Role.INSTRUCTOR)
    assert client.get("/coursework/deep-link").status_code == 400    # not a deep linking launch
    _dl_launch(client, app, world, {**SETTINGS, "accept_types": ["file"]})
    refused = client.get("/coursework/deep-link")
    assert refused.status_code == 400 and "does not accept assignments" in refused.get_data(as_text=True)
    login(client, app, course_id=world.course_a, user_id=world.student1_a, role=Role.LEARNER, launch_id="dl-launch-1")
    assert client.get("/coursework/deep-link").status_code == 403


def test_an_untouched_form_adds_nothing_and_the_tools_name_is_no_title(client, app, world):
    """Some LMSs suggest the tool's own name as the content's title: the form no longer fills it in,
    and a form sent as it came (no title, no instructions) is refused in words, nothing stored."""
    token = _dl_launch(client, app, world, {**SETTINGS, "title": "Gradeloop"})
    page = client.get("/coursework/deep-link").get_data(as_text=True)
    assert 'id="title" name="title" required maxlength="200" value=""' in page
    assert re.search(r'<textarea id="prompt"[^>]* required aria-required="true"', page), "the browser says so first"
    refused = client.post("/coursework/deep-link", data={"csrf_token": token, "title": "", "prompt": "  ",
                                                         "score_min": "1", "score_max": "6"})
    html = refused.get_data(as_text=True)
    assert refused.status_code == 400 and "Give the assignment a title" in html
    assert "Write the prompt and instructions students answer" in html
    with app.app_context():
        assert count(Assignment) == 2   # the world's two; none added
    no_prompt = client.post("/coursework/deep-link", data={"csrf_token": token, "title": "Climate essay",
                                                           "score_min": "1", "score_max": "6"})
    assert no_prompt.status_code == 400
    with app.app_context():
        assert count(Assignment) == 2
    assert "Write the prompt and instructions students answer" in no_prompt.get_data(as_text=True)


def test_the_lms_suggested_title_is_kept(client, app, world):
    _dl_launch(client, app, world, {**SETTINGS, "title": "Week 3 essay"})
    assert 'value="Week 3 essay"' in client.get("/coursework/deep-link").get_data(as_text=True)
