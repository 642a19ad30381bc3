"""`make run`'s demo data: the sandbox demo course's placement opens a ready assignment with real
graded essays (and teacher comments by score band) waiting to train the course model."""
from __future__ import annotations

from lti_app.demo import COMMENTS, DEMO_COURSE, DEMO_LINK, DEMO_TITLE, graded_csv, graded_rows, seed_demo_assignment
from lti_app.extensions import db
from lti_app.models import Assignment, Grade, GradeSource, OutboxEvent, Platform
from lti_app.sandbox.ui import seed_demo
from tests.conftest import SHARED_DATA


def test_graded_rows_are_real_essays_with_band_comments(shared_data):
    rows = graded_rows(12, data_dir=shared_data)
    assert len(rows) == 12 and all(len(r["text"].split()) > 50 for r in rows)
    assert all(r["comment"] in COMMENTS[r["score"]] for r in rows)
    assert graded_rows(3, data_dir=shared_data, skip=12)[0]["text"] not in {r["text"] for r in rows}
    assert graded_csv(rows).decode().startswith("text,score,comment")
    assert graded_rows(5, data_dir=shared_data / "nowhere") == []


def test_seed_is_idempotent_and_the_demo_placement_opens_it(peer, tool_server):
    seed_demo(peer.state)
    with tool_server.app.app_context():
        assert db.session.scalar(db.select(Assignment.id).limit(1)) is None
        platform_id = db.session.scalar(db.select(Platform.id).filter_by(issuer=peer.issuer))
    first = seed_demo_assignment(tool_server.app, platform_id, n=40, data_dir=SHARED_DATA)
    assert first is not None and seed_demo_assignment(tool_server.app, platform_id, data_dir=SHARED_DATA) is None
    with tool_server.app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Grade)
                                 .where(Grade.source == GradeSource.IMPORT)) == 40
        due = db.session.scalars(db.select(OutboxEvent).where(OutboxEvent.type == "training.due")).all()
        assert [e.payload["payload"]["assignment_id"] for e in due] == [first]
    result = peer.launch(role="Learner", user_id="student-1", course_id=DEMO_COURSE, resource_link_id=DEMO_LINK)
    page = result.browser.get(tool_server.url + "/coursework/", timeout=30)
    assert page.status_code == 200 and DEMO_TITLE in page.text and "Hand in" in page.text


def test_seed_without_the_data_folder_still_creates_the_assignment(app, tmp_path):
    with app.app_context():
        platform = Platform(issuer="https://lms.example", client_id="c", auth_login_url="https://lms.example/a",
                            auth_token_url="https://lms.example/t", key_set_url="https://lms.example/k")
        db.session.add(platform)
        db.session.commit()
        platform_id = platform.id
    assignment_id = seed_demo_assignment(app, platform_id, data_dir=tmp_path)
    with app.app_context():
        assert db.session.get(Assignment, assignment_id).title == DEMO_TITLE
        assert db.session.scalar(db.select(db.func.count()).select_from(Grade)) == 0
        assert db.session.scalar(db.select(db.func.count()).select_from(OutboxEvent)) == 0
