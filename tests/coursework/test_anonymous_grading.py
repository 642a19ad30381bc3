"""Anonymous grading: with the setting on, graders read "Essay #n" on the essay list, the grading
page and the review queue, never the student's name, e-mail or uploaded file name; turned off,
names come back (Flask test client, fresh SQLite)."""
from __future__ import annotations

from lti_app.extensions import db
from lti_app.models import AiProposal, Assignment, Role, Submission
from tests.coursework.helpers import login

NAMES = ("Student1 A", "student1-a", "student1_a_final.docx")   # name, LTI sub, file name


def _settings(client, csrf, world, anonymous: bool):
    data = {"csrf_token": csrf, "feedback_mode": "review", "min_graded": "30", "retrain_every": "20",
            "confidence_threshold": "0.6", "allow_resubmit": "on"}
    if anonymous:
        data["anonymous_grading"] = "on"
    assert client.post(f"/coursework/a/{world.assignment_a}/settings", data=data).status_code == 303


def _pages(client, world, proposal_id) -> dict[str, str]:
    urls = {"list": f"/coursework/a/{world.assignment_a}",
            "grading": f"/coursework/a/{world.assignment_a}/essays/{world.essay_a}",
            "queue": f"/review/a/{world.assignment_a}",
            "proposal": f"/review/a/{world.assignment_a}/p/{proposal_id}"}
    pages = {}
    for name, url in urls.items():
        response = client.get(url)
        assert response.status_code == 200, name
        pages[name] = response.get_data(as_text=True)
    return pages


def _proposal(app, world, **essay) -> int:
    """A pending AI proposal for student1's essay (whose fields `essay` sets first); its id."""
    with app.app_context():
        submission = db.session.get(Submission, world.essay_a)
        for name, value in essay.items():
            setattr(submission, name, value)
        proposal = AiProposal(submission_id=world.essay_a, score=4, confidence=0.7, trait_scores={},
                              feedback="Good.", status="pending", unusual=[])
        db.session.add(proposal)
        db.session.commit()
        return proposal.id


def test_graders_see_essay_numbers_not_names(app, client, world):
    proposal_id = _proposal(app, world, filename="student1_a_final.docx")
    csrf = login(client, app, course_id=world.course_a, user_id=world.teacher_a, role=Role.INSTRUCTOR)
    named = _pages(client, world, proposal_id)
    assert "Student1 A" in named["list"] and "student1_a_final.docx" in named["grading"]
    assert "Student1 A" in named["queue"] and "Student1 A" in named["proposal"]

    _settings(client, csrf, world, anonymous=True)
    assert 'name="anonymous_grading" checked' in client.get(
        f"/coursework/a/{world.assignment_a}/settings").get_data(as_text=True)
    for page_name, html in _pages(client, world, proposal_id).items():
        assert not [n for n in NAMES if n in html], page_name
        assert f"Essay #{world.essay_a}" in html, page_name

    student = app.test_client()
    login(student, app, course_id=world.course_a, user_id=world.student1_a, role=Role.LEARNER,
          resource_link_id=world.link_a)
    assert "My essay about things." in student.get(f"/coursework/a/{world.assignment_a}/essay").get_data(as_text=True)

    _settings(client, csrf, world, anonymous=False)
    assert "Student1 A" in client.get(f"/coursework/a/{world.assignment_a}").get_data(as_text=True)


def test_teaching_assistants_cannot_lift_it_or_read_names_from_the_export(app, client, world):
    teacher_csrf = login(client, app, course_id=world.course_a, user_id=world.teacher_a, role=Role.INSTRUCTOR)
    _settings(client, teacher_csrf, world, anonymous=True)
    ta = app.test_client()
    ta_csrf = login(ta, app, course_id=world.course_a, user_id=world.ta_a, role=Role.TA)
    assert "the course’s instructors set this" in ta.get(f"/coursework/a/{world.assignment_a}/settings").get_data(
        as_text=True)
    refused = ta.post(f"/coursework/a/{world.assignment_a}/settings",
                      data={"csrf_token": ta_csrf, "feedback_mode": "review", "min_graded": "", "retrain_every": "20",
                            "confidence_threshold": "x"})
    page = refused.get_data(as_text=True)
    assert refused.status_code == 400 and "Enter a whole number." in page and "Enter a percentage from 0 to 100" in page
    assert "not be null" not in page and "Not a valid" not in page
    assert 'name="anonymous_grading" checked' in page    # still on: the disabled box is never posted
    _settings(ta, ta_csrf, world, anonymous=False)          # the TA saves the other settings
    with app.app_context():
        assignment = db.session.get(Assignment, world.assignment_a)
        assert assignment.anonymous_grading and assignment.feedback_mode.value == "review"
    ta_export = ta.get("/coursework/course/export.csv").get_data(as_text=True)
    assert "Student1 A" not in ta_export and "My essay about things." in ta_export
    assert "Student1 A" in client.get("/coursework/course/export.csv").get_data(as_text=True)


def test_failed_gradebook_updates_name_the_essay_only(app, world):
    from lti_app.dashboard.views import _concerns_of
    from lti_app.models import DeadLetter, Grade, GradeSource

    with app.app_context():
        submission = db.session.get(Submission, world.essay_a)
        submission.filename = "student1_a_final.docx"
        grade = Grade(submission_id=submission.id, score=3, source=GradeSource.TEACHER, score_min=1, score_max=6)
        db.session.add(grade)
        db.session.flush()
        row = DeadLetter(payload={"payload": {"grade_id": grade.id}})
        assert "Student1 A" in _concerns_of([row])[0]
        db.session.get(Assignment, world.assignment_a).anonymous_grading = True
        assert _concerns_of([row]) == [f"Essay #{submission.id}"]


def test_a_name_written_in_the_essay_is_hidden_from_graders_only(app, client, world):
    """The student signed the essay: graders read "[student]" there (any case for the whole name,
    a part only as written or in capitals), the student and the stored text keep it."""
    signed = "Name: STUDENT1 A\n\nI hope school starts later. Student1 thinks so; my friend student1 too."
    proposal_id = _proposal(app, world, text=signed)
    csrf = login(client, app, course_id=world.course_a, user_id=world.teacher_a, role=Role.INSTRUCTOR)
    assert "Name: STUDENT1 A" in _pages(client, world, proposal_id)["grading"]
    _settings(client, csrf, world, anonymous=True)
    pages = _pages(client, world, proposal_id)
    for page_name in ("grading", "proposal"):
        assert ("Name: [student]\n\nI hope school starts later. [student] thinks so; my friend student1 too."
                in pages[page_name]), page_name
    with app.app_context():
        assert db.session.get(Submission, world.essay_a).text == signed
    student = app.test_client()
    login(student, app, course_id=world.course_a, user_id=world.student1_a, role=Role.LEARNER,
          resource_link_id=world.link_a)
    assert "Name: STUDENT1 A" in student.get(f"/coursework/a/{world.assignment_a}/essay").get_data(as_text=True)


def test_redaction_spares_ordinary_words_and_catches_spelling_variants():
    from types import SimpleNamespace

    from lti_app.coursework.anonymity import redactor

    def shown(name, email, text):
        return redactor(SimpleNamespace(anonymous_grading=True), SimpleNamespace(name=name, email=email))(text)

    assert shown("Will", "will@school.example", "I will go. Will said so.") == "I will go. [student] said so."
    assert shown("Hope Lane", "hope@school.example", "I hope so. HOPE LANE, hope lane.") == (
        "I hope so. [student], [student].")
    assert shown("Conan O'Brien", "", "By Conan O’Brien (O’BRIEN).") == "By [student] ([student])."
    assert shown("Lovelace, Ada", "a.lovelace@school.example", "ada lovelace, a.lovelace") == "[student], [student]"
    assert shown("", "", "Nothing to hide.") == "Nothing to hide."


def test_a_tas_export_does_not_name_the_writer_of_a_signed_essay(app, client, world):
    """The export pairs the essay id with its text: a signature, or a comment that names the
    student, would tell a TA who wrote "Essay #n". The instructor's export keeps every word."""
    import csv
    import io

    from lti_app.models import Grade, GradeSource

    signed = "Name: Student1 A\n\nMy essay about things, by STUDENT1."
    earlier = "Student1 A\n\nA first try."
    with app.app_context():
        db.session.get(Submission, world.essay_a).text = signed
        # Graded on the first version, then revised: the export writes that version on a row of its own.
        db.session.add(Grade(submission_id=world.essay_a, score=4, source=GradeSource.TEACHER, score_min=1,
                             score_max=6, comment="Well argued, Student1 A.", essay_text=earlier))
        db.session.commit()
    teacher_csrf = login(client, app, course_id=world.course_a, user_id=world.teacher_a, role=Role.INSTRUCTOR)
    _settings(client, teacher_csrf, world, anonymous=True)
    ta = app.test_client()
    login(ta, app, course_id=world.course_a, user_id=world.ta_a, role=Role.TA)

    def essay_rows(who) -> list[dict]:
        body = who.get("/coursework/course/export.csv").get_data(as_text=True).lstrip("\ufeff")
        return [r for r in csv.DictReader(io.StringIO(body)) if r["essay_id"] == str(world.essay_a)]

    ta_rows = essay_rows(ta)
    assert [(r["status"], r["text"], r["comment"]) for r in ta_rows] == [
        ("graded, then revised", "[student]\n\nA first try.", "Well argued, [student]."),
        ("submitted", "Name: [student]\n\nMy essay about things, by [student].", "")]
    assert not [n for n in NAMES if any(n.lower() in str(r).lower() for r in ta_rows)]
    teacher_rows = essay_rows(client)
    assert [(r["student"], r["text"], r["comment"]) for r in teacher_rows] == [
        ("Student1 A", earlier, "Well argued, Student1 A."), ("Student1 A", signed, "")]
