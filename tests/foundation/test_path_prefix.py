"""Gradeloop served under a path of a shared host (GRADELOOP_PUBLIC_URL=https://tools.school.edu/gradeloop):
the URLs given to LMSs carry the path once, requests match whether or not the proxy strips it,
and in-page links and the login cookie stay under it."""
import re
from urllib.parse import unquote

from lti_app.extensions import db
from lti_app.models import Role
from lti_app.platforms import upsert_platform
from tests.coursework.helpers import build_world, login

BASE = "https://tools.school.edu/gradeloop"


def test_urls_carry_the_mount_path_once(make_app):
    app = make_app(public_url=BASE + "/")
    client = app.test_client()
    for path in ("/gradeloop/lti/jwks", "/lti/jwks"):   # proxy passes the path on, or strips it
        assert client.get(path).status_code == 200, path
    for script_root in ("", "/gradeloop"):              # proxy sets SCRIPT_NAME itself, or not
        config = client.get("/lti/canvas.json", base_url="https://tools.school.edu" + script_root).get_json()
        text = str(config)
        assert f"{BASE}/lti/launch" in text and "/gradeloop/gradeloop" not in text, text[:300]


def test_login_and_pages_stay_under_the_mount_path(make_app):
    app = make_app(public_url=BASE)
    with app.app_context():
        upsert_platform(issuer="https://lms.example", client_id="c1", deployment_ids=["d1"],
                        auth_login_url="https://lms.example/auth", auth_token_url="https://lms.example/token",
                        key_set_url="https://lms.example/jwks")
        db.session.commit()
    client = app.test_client()
    login_answer = client.get("/gradeloop/lti/login", query_string={
        "iss": "https://lms.example", "login_hint": "u1", "client_id": "c1", "target_link_uri": BASE + "/lti/launch"})
    assert login_answer.status_code == 302
    assert f"redirect_uri={BASE}/lti/launch" in unquote(login_answer.headers["Location"])
    assert "Path=/gradeloop/lti/" in login_answer.headers["Set-Cookie"]   # sent back to the launch URL

    world = build_world(app)
    login(client, app, course_id=world.course_a, user_id=world.teacher_a, role=Role.INSTRUCTOR)
    page = client.get(f"/gradeloop/coursework/a/{world.assignment_a}/settings").get_data(as_text=True)
    links = re.findall(r'(?:href|action)="(/[^"]*)"', page)
    assert links and all(link.startswith("/gradeloop/") for link in links), links
