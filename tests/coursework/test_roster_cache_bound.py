"""The course rosters a web process keeps (names and e-mails, read from the LMS over NRPS) are
bounded: at most `roster.ROSTER_COURSES` courses, the least recently used forgotten first, and a
copy past GRADELOOP_ROSTER_SECONDS is dropped, not kept until its course is read again. A
process that served a district's every course once kept all their learners for its whole life.
Real NRPS reads from the test LMS (`tests/peer.py`)."""
from __future__ import annotations

from lti_app.coursework import roster
from lti_app.extensions import db
from lti_app.models import Course
from tests.coursework.flows import COURSE, create_by_deep_link, open_assignment


def test_the_roster_cache_keeps_a_few_courses_and_no_expired_copy(peer, tool_server, monkeypatch):
    create_by_deep_link(peer, tool_server)
    peer.add_member(COURSE, "s-anna", "Learner", name="Anna Zed", email="anna@school.example")
    open_assignment(peer, tool_server, role="Instructor", user_id="teacher-1")   # the course's NRPS address
    monkeypatch.setattr(roster, "ROSTER_COURSES", 3)
    app = tool_server.app
    with app.app_context():
        first = db.session.scalar(db.select(Course).where(Course.nrps_url.is_not(None)))
        others = [Course(platform_id=first.platform_id, context_id=f"other-{n}", nrps_url=first.nrps_url)
                  for n in range(4)]
        db.session.add_all(others)
        db.session.commit()
        courses = [first, *others]
        for course in courses:
            members, problem, _ = roster.roster_members(course)
            assert problem is None and [m.name for m in members] == ["Anna Zed"]

        def kept() -> list[int]:
            return [course_id for course_id, _ in app.extensions["gradeloop_roster"]]

        assert kept() == [c.id for c in courses[2:]], "the two read longest ago are forgotten"
        calls = len(peer.service_calls("nrps"))
        roster.roster_members(courses[2])          # kept: no NRPS read, and now the most recently used
        assert len(peer.service_calls("nrps")) == calls
        roster.roster_members(first)               # forgotten: read again, which pushes out courses[3]
        assert len(peer.service_calls("nrps")) > calls
        assert kept() == [courses[4].id, courses[2].id, first.id]

        app.config["GRADELOOP_ROSTER_SECONDS"] = 0   # every copy expired: the next read drops them all
        roster.roster_members(courses[1])
        assert kept() == [courses[1].id]

        # Expired, and the next request's LMS does not answer: nothing stored, still none kept.
        peer.fail_next(1, status=503, services=("nrps",))
        members, problem, _ = roster.roster_members(courses[2])
        assert problem and members == [] and kept() == []
