"""Test helpers for coursework: a two-course world in the database and logging a test client in
as someone (the session a verified launch would create), for tests that need no LMS peer."""
from __future__ import annotations

import contextlib
import hmac
import io
import time
import uuid
from dataclasses import asdict
from datetime import datetime, timedelta, timezone
from hashlib import sha256
from types import SimpleNamespace

from lti_app.auth import SESSION_KEY, LaunchContext
from lti_app.extensions import db
from lti_app.models import (Assignment, Course, CourseRole, Deployment, Platform, ResourceLink, Role, Submission,
                            SubmissionStatus, User)


def build_world(app) -> SimpleNamespace:
    """Platform with courses A and B; A has a teacher, a TA, two students and an assignment; B too."""
    with app.app_context():
        platform = Platform(issuer="https://lms.example", client_id="tool-1", auth_login_url="https://lms.example/auth",
                            auth_token_url="https://lms.example/token", key_set_url="https://lms.example/jwks")
        platform.deployments.append(Deployment(deployment_id="dep-1"))
        db.session.add(platform)
        db.session.flush()
        ids = {"platform": platform.id}
        for course_key in ("a", "b"):
            # Launched before, as its people (below): a course newer than a session is another's.
            course = Course(platform_id=platform.id, context_id=f"course-{course_key}", title=f"Course {course_key.upper()}",
                            created_at=datetime.now(timezone.utc) - timedelta(days=2))
            db.session.add(course)
            db.session.flush()
            link = ResourceLink(course_id=course.id, resource_link_id=f"rl-{course_key}", title="Essay 1")
            db.session.add(link)
            db.session.flush()
            assignment = Assignment(course_id=course.id, resource_link_id=link.id, title=f"Essay {course_key}",
                                    prompt="Discuss.", score_min=1, score_max=6, resource_id=f"res-{course_key}",
                                    traits=[{"name": "cohesion", "min": 1, "max": 5}])
            db.session.add(assignment)
            db.session.flush()
            ids.update({f"course_{course_key}": course.id, f"link_{course_key}": link.id,
                        f"assignment_{course_key}": assignment.id})
            for who, role in (("teacher", Role.INSTRUCTOR), ("ta", Role.TA), ("student1", Role.LEARNER),
                              ("student2", Role.LEARNER)):
                # People of a course launched before: sessions started hours ago are theirs
                # (a row newer than the session is someone else's, auth._newer_than_session).
                user = User(platform_id=platform.id, sub=f"{who}-{course_key}", name=f"{who.title()} {course_key.upper()}",
                            created_at=datetime.now(timezone.utc) - timedelta(days=2))
                db.session.add(user)
                db.session.flush()
                db.session.add(CourseRole(course_id=course.id, user_id=user.id, role=role))
                ids[f"{who}_{course_key}"] = user.id
        db.session.flush()
        for course_key in ("a", "b"):
            essay = Submission(assignment_id=ids[f"assignment_{course_key}"], user_id=ids[f"student1_{course_key}"],
                               text="My essay about things.", word_count=4, status=SubmissionStatus.SUBMITTED)
            db.session.add(essay)
            db.session.flush()
            ids[f"essay_{course_key}"] = essay.id
        db.session.commit()
    return SimpleNamespace(**ids)


def login(client, app, *, course_id: int, user_id: int, role: Role, resource_link_id=None, platform_id=1,
          launch_id: str | None = None, expires_in: float = 3600, started_ago: float = 0.0) -> str:
    """Give the client the session of a verified launch; returns the CSRF token for its forms."""
    ctx = LaunchContext(launch_id=launch_id or uuid.uuid4().hex, platform_id=platform_id, course_id=course_id,
                        user_id=user_id, role=Role(role).value, resource_link_id=resource_link_id,
                        expires_at=time.time() + expires_in, started_at=time.time() - started_ago)
    with client.session_transaction() as sess:
        sess.clear()
        sess[SESSION_KEY] = asdict(ctx)
    return hmac.new(app.config["SECRET_KEY"].encode(), f"csrf:{ctx.launch_id}".encode(), sha256).hexdigest()


def teacher_dashboard(app, world) -> str:
    """The dashboard of `world`'s assignment A as its teacher sees it (HTML)."""
    client = app.test_client()
    login(client, app, course_id=world.course_a, user_id=world.teacher_a, role=Role.INSTRUCTOR,
          platform_id=world.platform)
    page = client.get(f"/dashboard/a/{world.assignment_a}")
    assert page.status_code == 200
    return page.get_data(as_text=True)


def docx_bytes(*paragraphs: str) -> bytes:
    import docx

    document = docx.Document()
    for text in paragraphs:
        document.add_paragraph(text)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def count(model, **filters) -> int:
    return db.session.scalar(db.select(db.func.count()).select_from(model).filter_by(**filters))


@contextlib.contextmanager
def other_tab_first(app, title: str, statement):
    """Two tabs at once, made reproducible: when this tab's request is about to flush a new
    assignment called `title`, the other tab's `statement` commits first on its own connection."""
    from sqlalchemy import event

    def before_flush(session, flush_context, instances):
        if any(isinstance(o, Assignment) and o.title == title for o in session.new):
            with db.engine.begin() as conn:
                conn.execute(statement)

    with app.app_context():
        event.listen(db.session, "before_flush", before_flush)
    try:
        yield
    finally:
        with app.app_context():
            event.remove(db.session, "before_flush", before_flush)
