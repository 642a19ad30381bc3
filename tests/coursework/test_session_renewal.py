"""A session in use slides (idle timeout), up to the longest session after the launch; polling
does not keep it alive; the launch token rendered in pages carries the new end."""
import hmac
import re
import time
from hashlib import sha256

from itsdangerous import URLSafeTimedSerializer

from lti_app.auth import RENEW_EVERY_S, SESSION_KEY, LaunchContext, launch_token
from lti_app.models import Role
from tests.coursework.helpers import login

IDLE = 120 * 60   # GRADELOOP_SESSION_MINUTES' default


def _session_end(client) -> float:
    with client.session_transaction() as sess:
        return sess[SESSION_KEY]["expires_at"]


def _teacher(client, app, world, **kwargs):
    return login(client, app, course_id=world.course_a, user_id=world.teacher_a, role=Role.INSTRUCTOR,
                 resource_link_id=world.link_a, **kwargs)


def test_a_session_in_use_is_extended_every_few_minutes(client, app, world):
    _teacher(client, app, world, expires_in=IDLE - 60, started_ago=60)
    before = _session_end(client)
    assert client.get(f"/coursework/a/{world.assignment_a}").status_code == 200
    assert _session_end(client) == before, "moved a minute ago: the cookie is not rewritten"

    _teacher(client, app, world, expires_in=IDLE - RENEW_EVERY_S - 5, started_ago=RENEW_EVERY_S + 5)
    assert client.get(f"/coursework/a/{world.assignment_a}").status_code == 200
    assert abs(_session_end(client) - (time.time() + IDLE)) < 30

    _teacher(client, app, world, expires_in=60, started_ago=IDLE - 60)
    assert client.get(f"/coursework/a/{world.assignment_a}").status_code == 200
    assert abs(_session_end(client) - (time.time() + IDLE)) < 30


def test_a_form_sent_near_the_end_keeps_working_afterwards(client, app, world):
    """A grade saved a minute before the end moves it, so the next save two hours later (minus a
    minute) is not refused."""
    token = _teacher(client, app, world, expires_in=60, started_ago=IDLE - 60)
    saved = client.post(f"/coursework/a/{world.assignment_a}/essays/{world.essay_a}",
                        data={"csrf_token": token, "score": "4", "comment": "Clear claim."})
    assert saved.status_code in (200, 303), saved.get_data(as_text=True)[:500]
    assert _session_end(client) > time.time() + IDLE - 60


def test_a_session_never_outlives_the_longest_session(client, app, world):
    longest = app.config["GRADELOOP_SESSION_MAX_HOURS"] * 3600
    _teacher(client, app, world, expires_in=60, started_ago=longest - 300)
    assert client.get(f"/coursework/a/{world.assignment_a}").status_code == 200
    assert abs(_session_end(client) - (time.time() + 300)) < 30, "capped at the launch + the longest session"

    _teacher(client, app, world, expires_in=-1, started_ago=longest + 60)
    assert client.get(f"/coursework/a/{world.assignment_a}").status_code == 401


def test_polling_the_training_progress_does_not_keep_a_session_alive(client, app, world):
    _teacher(client, app, world, expires_in=60, started_ago=IDLE - 60)
    before = _session_end(client)
    polled = client.get(f"/dashboard/a/{world.assignment_a}/training.json", headers={"Accept": "application/json"})
    assert polled.status_code == 200, polled.get_data(as_text=True)[:300]
    assert _session_end(client) == before


def test_without_the_cookie_the_pages_links_carry_the_extended_token(app, world):
    """Third-party cookies blocked: the session rides the signed `lt` token in links and forms,
    so the token the page renders must carry the new end."""
    with app.test_request_context():
        ctx = LaunchContext(launch_id="n" * 32, platform_id=1, course_id=world.course_a, user_id=world.teacher_a,
                            role=Role.INSTRUCTOR.value, resource_link_id=world.link_a,
                            expires_at=time.time() + 60, started_at=time.time() - IDLE + 60)
        token = launch_token(ctx)
    page = app.test_client().get(f"/coursework/a/{world.assignment_a}?lt={token}")
    assert page.status_code == 200
    rendered = set(re.findall(r"lt=([\w.\-]+)", page.get_data(as_text=True)))
    assert rendered and token not in rendered
    with app.test_request_context():
        ends = {URLSafeTimedSerializer(app.config["SECRET_KEY"], salt="gradeloop-launch").loads(t)["expires_at"]
                for t in rendered}
    assert all(end > time.time() + IDLE - 60 for end in ends)


def test_typing_keeps_the_session_through_the_keep_alive(client, app, world):
    """Pages post /session/keep-alive while someone types (base.html); it renews like a page, and
    needs the form's CSRF token like any POST."""
    def student(**kwargs):
        return login(client, app, course_id=world.course_a, user_id=world.student2_a, role=Role.LEARNER,
                     resource_link_id=world.link_a, launch_id="s" * 32, **kwargs)

    token = student()
    page = client.get(f"/coursework/a/{world.assignment_a}/essay").get_data(as_text=True)
    assert '"/session/keep-alive"' in page and f'"{token}"' in page
    student(expires_in=60, started_ago=IDLE - 60)   # the page is still open, nearly two hours later
    assert client.post("/session/keep-alive", data={}).status_code == 403
    alive = client.post("/session/keep-alive", data={"csrf_token": token}, headers={"Accept": "application/json"})
    assert alive.status_code == 200 and alive.json["field"] == "launch"
    assert alive.json["expires_at"] == _session_end(client) > time.time() + IDLE - 60


def test_a_form_whose_action_keeps_the_old_token_uses_the_renewed_one(app, world):
    """Cookie blocked: the form's action URL still carries the token the page was drawn with,
    which has ended, while the keep-alive renewed the one in its fields: the live one counts."""
    with app.test_request_context():
        fields = dict(platform_id=1, course_id=world.course_a, user_id=world.student2_a, role=Role.LEARNER.value,
                      resource_link_id=world.link_a, launch_id="k" * 32)
        old = launch_token(LaunchContext(**fields, expires_at=time.time() - 5, started_at=time.time() - IDLE))
        renewed = launch_token(LaunchContext(**fields, expires_at=time.time() + IDLE, started_at=time.time() - IDLE))
        csrf = hmac.new(app.config["SECRET_KEY"].encode(), f"csrf:{'k' * 32}".encode(), sha256).hexdigest()
    handed_in = app.test_client().post(f"/coursework/a/{world.assignment_a}/essay?lt={old}",
                                       data={"lt": renewed, "csrf_token": csrf, "text": "Written in one long sitting."})
    assert handed_in.status_code == 303, handed_in.get_data(as_text=True)[:400]


def test_a_grade_sent_after_the_session_ended_gives_back_the_scores_typed(client, app, world):
    """The comment was given back, the score and trait scores were dropped: a teacher who graded
    for an hour had to work out again what they had decided. Nothing is stored, and a cross-site
    form's values are never shown."""
    from lti_app.extensions import db
    from lti_app.models import Grade

    token = _teacher(client, app, world, expires_in=-1, started_ago=IDLE + 1)
    url = f"/coursework/a/{world.assignment_a}/essays/{world.essay_a}"
    form = {"csrf_token": token, "score": " 4.5 ", "trait:cohesion": "3", "comment": "Clear <claim>.", "seen": "x"}
    refused = client.post(url, data=form, headers={"Origin": "http://localhost"})
    page = refused.get_data(as_text=True)
    assert refused.status_code == 403 and "your session has ended" in page
    scores = re.search(r'<ul id="kept-scores">(.*?)</ul>', page, re.S).group(1)
    assert [" ".join(re.sub(r"<[^>]+>", "", li).split()) for li in re.findall(r"<li>(.*?)</li>", scores, re.S)] == [
        "Score you typed: 4.5", "Score you typed for cohesion: 3"]
    assert "Note the scores and copy the text before you leave this page" in " ".join(page.split())
    assert re.search(r'<textarea id="kept-text"[^>]*readonly[^>]*>Clear &lt;claim&gt;.</textarea>', page)
    alone = client.post(url, data={"csrf_token": token, "score": "4"}).get_data(as_text=True)
    assert "<strong>4</strong>" in alone and 'id="kept-text"' not in alone
    assert "Note the score before you leave this page, then enter it again" in " ".join(alone.split())
    forged = client.post(url, data=form, headers={"Origin": "https://evil.example"}).get_data(as_text=True)
    assert 'id="kept-scores"' not in forged and "4.5" not in forged
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Grade.id))) == 0
