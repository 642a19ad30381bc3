"""The sandbox LMS pages, read over HTTP (the browser test drives them for real)."""
from __future__ import annotations

import requests

from lti_app.sandbox.forms import find_form
from lti_app.sandbox.ui import DEMO_COURSE, seed_demo
from tests.sandbox.fake_tool import access_token


def test_home_shows_the_demo_course_people_and_placements(fake_peer):
    seed_demo(fake_peer.state)
    page = requests.get(fake_peer.url + "/", timeout=5)
    assert page.status_code == 200
    for text in ("Sandbox Demo Course", "Ada Lovelace", "Grace Hopper", "Essay feedback (Gradeloop)",
                 "Launch Gradeloop", "Add Gradeloop content (deep linking)", fake_peer.state.tool.login_url):
        assert text in page.text


def test_launch_page_frames_the_tool_and_initiates_login_into_the_iframe(fake_peer):
    seed_demo(fake_peer.state)
    page = requests.get(f"{fake_peer.url}/courses/{DEMO_COURSE}/launch",
                        params={"user_id": "student-1", "link": "essay-feedback"}, timeout=5)
    assert page.status_code == 200
    form = find_form(page.text, page.url, with_field="lti_message_hint")
    assert form.action == fake_peer.state.tool.login_url and form.method == "POST"
    assert form.target == "gradeloop-frame" and 'name="gradeloop-frame"' in page.text
    assert form.fields["login_hint"] == "student-1" and form.fields["lti_storage_target"] == "_parent"
    assert form.fields["iss"] == fake_peer.issuer and "Open in new window" in page.text
    assert "lti.get_data" in page.text   # the platform storage host
    # Posting that form where the iframe would completes a real launch.
    browser = fake_peer.browser()
    launched = browser.post(form.action, data=form.fields, timeout=5)
    tool_page = fake_peer.submit_form(launched, browser, with_field="id_token")
    assert tool_page.json()["claims"]["sub"] == "student-1"
    assert tool_page.json()["storage_target"] == "_parent"


def test_launch_page_refuses_unknown_people_and_students_deep_linking(fake_peer):
    seed_demo(fake_peer.state)
    base = f"{fake_peer.url}/courses/{DEMO_COURSE}"
    assert requests.get(base + "/launch", params={"user_id": "nobody", "link": "essay-feedback"}, timeout=5).status_code == 400
    assert requests.get(base + "/deep-link", params={"user_id": "student-1"}, timeout=5).status_code == 403
    teacher = requests.get(base + "/deep-link", params={"user_id": "teacher-1"}, timeout=5)
    assert find_form(teacher.text, with_field="lti_message_hint").fields["target_link_uri"] == fake_peer.state.tool.deep_link_url
    assert requests.get(fake_peer.url + "/courses/none", timeout=5).status_code == 404


def test_gradebook_shows_scores_and_comments(fake_peer):
    seed_demo(fake_peer.state)
    link = fake_peer.add_resource_link(DEMO_COURSE, "graded", title="Essay 2", line_item={"scoreMaximum": 6})
    token = access_token(fake_peer, ["https://purl.imsglobal.org/spec/lti-ags/scope/score"])
    posted = requests.post(fake_peer.state.lineitem_url(DEMO_COURSE, link.line_item_id) + "/scores", timeout=5,
                           headers={"Authorization": f"Bearer {token}",
                                    "Content-Type": "application/vnd.ims.lis.v1.score+json"},
                           json={"userId": "student-2", "scoreGiven": 5, "scoreMaximum": 6,
                                 "activityProgress": "Completed", "gradingProgress": "FullyGraded",
                                 "comment": "Strong evidence.", "timestamp": "2026-01-01T00:00:00Z"})
    assert posted.status_code == 200
    page = requests.get(f"{fake_peer.url}/courses/{DEMO_COURSE}/gradebook", timeout=5)
    assert page.status_code == 200
    assert "Essay 2" in page.text and "5 / 6" in page.text and "Strong evidence." in page.text


def test_admin_registration_page_frames_the_tools_registration_url(fake_peer):
    form = requests.get(fake_peer.url + "/admin/register", timeout=5)
    assert form.status_code == 200 and f"{fake_peer.state.tool.login_url.rsplit('/lti/', 1)[0]}/lti/register" in form.text
    page = requests.get(fake_peer.url + "/admin/register", params={"url": "http://localhost:9/lti/register"}, timeout=5)
    assert "openid_configuration=" in page.text and "registration_token=" in page.text
    assert "org.imsglobal.lti.close" in page.text and len(fake_peer.state.registration_tokens) == 1
    assert requests.get(fake_peer.url + "/admin/register", params={"url": "javascript:alert(1)"}, timeout=5).status_code == 400


def test_admin_can_rotate_the_signing_key(fake_peer):
    old = fake_peer.kid
    page = requests.post(fake_peer.url + "/admin/rotate-keys", timeout=5)
    assert page.status_code == 200 and fake_peer.kid != old and fake_peer.kid in page.text
    kids = {k["kid"] for k in requests.get(fake_peer.state.jwks_url, timeout=5).json()["keys"]}
    assert kids == {old, fake_peer.kid}
