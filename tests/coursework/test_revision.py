"""Returning a graded essay for revision: the student reads the feedback, hands in a new version,
the teacher grades it; the first grade stays paired with the text it was given on (training,
written-feedback examples, history), the LMS keeps it until the new grade, and the AI may
never auto-releases a grade for a revision the teacher asked for (Flask test client, fresh SQLite)."""
from __future__ import annotations

import re

from lti_app.extensions import db
from lti_app.models import AiProposal, Assignment, Grade, OutboxEvent, Role, Submission, SubmissionStatus
from tests.coursework.helpers import login

FIRST = "My essay about things."
REVISED = "My essay about things, now with evidence: a survey of 200 students found the opposite."


def _grade_url(world) -> str:
    return f"/coursework/a/{world.assignment_a}/essays/{world.essay_a}"


def _seen(page) -> str:
    return re.search(r'name="seen" value="([^"]+)"', page.get_data(as_text=True)).group(1)


def _teacher(app, world):
    client = app.test_client()
    return client, login(client, app, course_id=world.course_a, user_id=world.teacher_a, role=Role.INSTRUCTOR)


def _student(app, world):
    client = app.test_client()
    return client, login(client, app, course_id=world.course_a, user_id=world.student1_a, role=Role.LEARNER,
                         resource_link_id=world.link_a)


def _grade(teacher, csrf, world, score: str, comment: str):
    page = teacher.get(_grade_url(world))
    response = teacher.post(_grade_url(world), data={"csrf_token": csrf, "seen": _seen(page), "score": score,
                                                     "comment": comment})
    assert response.status_code == 303, response.get_data(as_text=True)


def _graded_returned_revised(app, world):
    """Graded 3, returned, revised; returns the teacher's client."""
    teacher, t_csrf = _teacher(app, world)
    student, s_csrf = _student(app, world)
    _grade(teacher, t_csrf, world, "3", "Give evidence.")
    teacher.post(f"{_grade_url(world)}/return", data={"csrf_token": t_csrf})
    revised = student.post(f"/coursework/a/{world.assignment_a}/essay", data={"csrf_token": s_csrf, "text": REVISED})
    assert revised.status_code == 303
    return teacher


def _status(app, world) -> SubmissionStatus:
    with app.app_context():
        return db.session.get(Submission, world.essay_a).status


def _training_set(app, world):
    from worker.ml.training_set import load_examples

    with app.app_context():
        examples = load_examples(world.assignment_a)
        return list(zip(examples.texts, examples.scores))


def test_returned_essay_is_revised_and_graded_again(app, world):
    teacher, t_csrf = _teacher(app, world)
    student, s_csrf = _student(app, world)
    essay_page = f"/coursework/a/{world.assignment_a}/essay"
    _grade(teacher, t_csrf, world, "3", "Give evidence for your claim.")
    assert "Hand in a new version" not in student.get(essay_page).get_data(as_text=True)

    returned = teacher.post(f"{_grade_url(world)}/return", data={"csrf_token": t_csrf}, follow_redirects=True)
    assert "Returned for revision" in returned.get_data(as_text=True)
    assert _status(app, world) == SubmissionStatus.RETURNED
    html = student.get(essay_page).get_data(as_text=True)
    assert "returned your essay for revision" in html and "Give evidence for your claim." in html
    assert "Hand in your revised essay" in html
    assert re.search(r'<textarea id="text" name="text"[^>]*>' + re.escape(FIRST) + "</textarea>", html)   # revised where it stands

    unchanged = student.post(essay_page, data={"csrf_token": s_csrf, "text": FIRST})
    assert unchanged.status_code == 400 and "Revise it before" in unchanged.get_data(as_text=True)
    assert student.post(essay_page, data={"csrf_token": s_csrf, "text": REVISED}).status_code == 303
    with app.app_context():
        essay = db.session.get(Submission, world.essay_a)
        assert essay.status == SubmissionStatus.SUBMITTED and essay.text == REVISED
        assert [g.essay_text for g in db.session.scalars(db.select(Grade))] == [FIRST]
    html = student.get(essay_page).get_data(as_text=True)
    assert "Waiting for grading" in html and "Feedback on your previous version" in html
    assert 'id="previous-score">3<' in html and "Give evidence for your claim." in html
    # The grade is trained on the text it was given on, never on the revision, and its comment
    # is a written-feedback example for that text.
    assert _training_set(app, world) == [(FIRST, 3)]
    from worker.feedback.loading import load_graded_examples

    with app.app_context():
        assert [(e.text, e.comment) for e in load_graded_examples(world.assignment_a)] == \
            [(FIRST, "Give evidence for your claim.")]

    page = teacher.get(_grade_url(world)).get_data(as_text=True)
    assert "A revised version" in page and "(on the previous version)" in page and REVISED in page
    assert "<h2>Grade the revised version</h2>" in page and "Change the grade" not in page   # nothing to change yet
    assert re.search(r'name="score"[^>]*value=""', page) and re.search(r'name="comment"[^>]*></textarea>', page)
    listing = teacher.get(f"/coursework/a/{world.assignment_a}").get_data(as_text=True)
    assert "1 to grade (1 revised)" in listing and 'data-status="Revised"' in listing
    assert '3 <span class="muted">(earlier version)</span>' in listing

    _grade(teacher, t_csrf, world, "5", "Much better.")
    assert _status(app, world) == SubmissionStatus.GRADED
    assert _training_set(app, world) == [(REVISED, 5)]
    html = student.get(essay_page).get_data(as_text=True)
    assert 'id="score">5<' in html and "Much better." in html and "previous version" not in html


def test_return_is_refused_for_ungraded_and_imported_essays(app, world):
    teacher, csrf = _teacher(app, world)
    ungraded = teacher.post(f"{_grade_url(world)}/return", data={"csrf_token": csrf}, follow_redirects=True)
    assert "Only a graded essay can be returned" in ungraded.get_data(as_text=True)
    with app.app_context():
        imported = Submission(assignment_id=world.assignment_a, user_id=None, text="Imported.", word_count=1,
                              status=SubmissionStatus.GRADED)
        db.session.add(imported)
        db.session.commit()
        imported_id = imported.id
    refused = teacher.post(f"/coursework/a/{world.assignment_a}/essays/{imported_id}/return",
                           data={"csrf_token": csrf}, follow_redirects=True)
    assert "Imported essays have no student" in refused.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Submission, imported_id).status == SubmissionStatus.GRADED
    assert _status(app, world) == SubmissionStatus.SUBMITTED
    # A student cannot return their own essay.
    student, s_csrf = _student(app, world)
    assert student.post(f"{_grade_url(world)}/return", data={"csrf_token": s_csrf}).status_code == 403


def test_revision_is_allowed_where_second_versions_are_not_and_can_be_taken_back(app, world):
    with app.app_context():
        db.session.get(Assignment, world.assignment_a).allow_resubmit = False
        db.session.commit()
    teacher, t_csrf = _teacher(app, world)
    student, s_csrf = _student(app, world)
    essay_page = f"/coursework/a/{world.assignment_a}/essay"
    _grade(teacher, t_csrf, world, "2", "Too short.")
    teacher.post(f"{_grade_url(world)}/return", data={"csrf_token": t_csrf})
    taken_back = teacher.post(f"{_grade_url(world)}/return", data={"csrf_token": t_csrf, "undo": "1"},
                              follow_redirects=True)
    assert "Return taken back" in taken_back.get_data(as_text=True)
    assert _status(app, world) == SubmissionStatus.GRADED
    refused = student.post(essay_page, data={"csrf_token": s_csrf, "text": REVISED})
    assert refused.status_code == 400 and "already been graded" in refused.get_data(as_text=True)
    assert 'id="refused-text"' in refused.get_data(as_text=True)    # the text is shown back, not lost

    teacher.post(f"{_grade_url(world)}/return", data={"csrf_token": t_csrf})
    assert student.post(essay_page, data={"csrf_token": s_csrf, "text": REVISED}).status_code == 303
    late = teacher.post(f"{_grade_url(world)}/return", data={"csrf_token": t_csrf, "undo": "1"},
                        follow_redirects=True)
    assert "already handed in a new version" in late.get_data(as_text=True)
    assert _status(app, world) == SubmissionStatus.SUBMITTED
    # Only one version per return: the revision cannot be replaced again on this assignment.
    again = student.post(essay_page, data={"csrf_token": s_csrf, "text": REVISED + " More."})
    assert again.status_code == 400 and "does not allow handing in a second version" in again.get_data(as_text=True)


def test_return_all_returns_graded_student_essays_only(app, world):
    teacher, csrf = _teacher(app, world)
    with app.app_context():
        second = Submission(assignment_id=world.assignment_a, user_id=world.student2_a, text="Another essay.",
                            word_count=2, status=SubmissionStatus.SUBMITTED)
        own = Submission(assignment_id=world.assignment_a, user_id=world.teacher_a, text="Teacher's test essay.",
                         word_count=3, status=SubmissionStatus.GRADED)
        db.session.add_all([second, own])
        db.session.commit()
        second_id, own_id = second.id, own.id
    _grade(teacher, csrf, world, "4", "Fine.")
    done = teacher.post(f"/coursework/a/{world.assignment_a}/return-all", data={"csrf_token": csrf},
                        follow_redirects=True)
    assert "1 essay returned for revision" in done.get_data(as_text=True)
    with app.app_context():
        statuses = {s.id: s.status for s in db.session.scalars(db.select(Submission))}
    assert statuses[world.essay_a] == SubmissionStatus.RETURNED
    assert statuses[second_id] == SubmissionStatus.SUBMITTED and statuses[own_id] == SubmissionStatus.GRADED
    listing = teacher.get(f"/coursework/a/{world.assignment_a}").get_data(as_text=True)
    assert "1 returned for revision" in listing and 'data-status="Returned"' in listing
    undone = teacher.post(f"/coursework/a/{world.assignment_a}/return-all", data={"csrf_token": csrf, "undo": "1"},
                          follow_redirects=True)
    assert "Return taken back for 1 essay." in undone.get_data(as_text=True)
    assert _status(app, world) == SubmissionStatus.GRADED
    with app.app_context():   # the worker tells the LMS of each return and taking back (revision notes)
        events = db.session.scalars(db.select(OutboxEvent).filter_by(type="gradebook.sync"))
        notes = [e.payload["payload"] for e in events if e.payload["payload"].get("revision")]
    assert [n["submission_id"] for n in notes] == [world.essay_a, world.essay_a]


def test_revision_keeps_the_lms_grade_and_waits_for_the_teacher(app, world):
    """The hand-in of a revision sends no score-less status (it would clear the LMS's grade), a
    pending proposal of a returned essay is not offered for review, and auto-feedback never
    releases a grade for the revision: the teacher asked for it and reviews it."""
    from lti_app.lms.gradebook import SKIPPED, push_submission_status
    from lti_app.review.decisions import pending_proposals
    from worker.handlers.scoring import _auto_release

    teacher, t_csrf = _teacher(app, world)
    student, s_csrf = _student(app, world)
    _grade(teacher, t_csrf, world, "3", "Give evidence.")
    teacher.post(f"{_grade_url(world)}/return", data={"csrf_token": t_csrf})
    with app.app_context():
        db.session.add(AiProposal(submission_id=world.essay_a, score=3, confidence=0.9, trait_scores={},
                                  feedback="Old version.", status="pending", unusual=[]))
        db.session.commit()
        assert pending_proposals(world.assignment_a) == []
    assert student.post(f"/coursework/a/{world.assignment_a}/essay",
                        data={"csrf_token": s_csrf, "text": REVISED}).status_code == 303
    with app.app_context():
        assert push_submission_status(world.essay_a) == SKIPPED
        assignment = db.session.get(Assignment, world.assignment_a)
        assignment.confidence_threshold = 0.5
        submission = db.session.get(Submission, world.essay_a)
        proposal = AiProposal(submission_id=world.essay_a, score=5, confidence=0.9, trait_scores={},
                              feedback="Strong evidence.", status="pending", unusual=[],
                              essay_submitted_at=submission.submitted_at)
        db.session.add(proposal)
        db.session.flush()
        _auto_release(None, assignment, proposal)
        db.session.commit()
        grades = db.session.scalars(db.select(Grade).order_by(Grade.id)).all()
        assert [(g.score, g.essay_text) for g in grades] == [(3, FIRST)]
        assert db.session.get(Submission, world.essay_a).status == SubmissionStatus.SUBMITTED
        assert [p.feedback for p in pending_proposals(world.assignment_a)] == ["Strong evidence."]


def test_privacy_export_and_erasure_cover_the_graded_version(app, world):
    """The export shows the text the grade was given on; erasure also deletes an anonymous copy of
    that earlier version (a course copy's training essay, or a CSV re-import of an export)."""
    _graded_returned_revised(app, world)
    from lti_app.erasure import erase_user, export_user
    from lti_app.models import User

    with app.app_context():
        copy = Submission(assignment_id=world.assignment_b, user_id=None, text=FIRST, word_count=4,
                          status=SubmissionStatus.GRADED)
        db.session.add(copy)
        db.session.commit()
        copy_id = copy.id
        exported = export_user(db.session.get(User, world.student1_a))
        (essay,) = [e for e in exported["essays"] if e["text"] == REVISED]
        assert essay["grades"][0]["graded_version_text"] == FIRST
        report = erase_user(db.session.get(User, world.student1_a))
        assert (report.essays, report.copies) == (1, 1)
        assert db.session.get(Submission, copy_id) is None


def test_course_export_keeps_the_grade_with_the_version_it_was_given_on(app, world):
    import csv
    import io

    teacher = _graded_returned_revised(app, world)
    body = teacher.get("/coursework/course/export.csv").get_data(as_text=True).lstrip("\ufeff")
    rows = [(r["text"], r["score"], r["status"]) for r in csv.DictReader(io.StringIO(body))
            if r["essay_id"] == str(world.essay_a)]
    assert rows == [(FIRST, "3", "graded, then revised"), (REVISED, "", "submitted")]


def test_a_changed_grade_on_a_returned_essay_keeps_it_returned(app, world):
    """More feedback on a returned essay is not a reason to take the return back; a co-teacher's
    page opened before the return is told about it instead of undoing it."""
    teacher, t_csrf = _teacher(app, world)
    _grade(teacher, t_csrf, world, "3", "Give evidence.")
    ta = app.test_client()
    ta_csrf = login(ta, app, course_id=world.course_a, user_id=world.ta_a, role=Role.TA)
    ta_seen = _seen(ta.get(_grade_url(world)))
    teacher.post(f"{_grade_url(world)}/return", data={"csrf_token": t_csrf})
    _grade(teacher, t_csrf, world, "3", "Give evidence: one study is enough.")
    assert _status(app, world) == SubmissionStatus.RETURNED
    late = ta.post(_grade_url(world), data={"csrf_token": ta_csrf, "seen": ta_seen, "score": "4"})
    assert late.status_code == 409
    assert "Teacher A saved a grade of 3" in late.get_data(as_text=True)
    ta_seen = _seen(late)
    teacher.post(f"{_grade_url(world)}/return", data={"csrf_token": t_csrf, "undo": "1"})
    again = ta.post(_grade_url(world), data={"csrf_token": ta_csrf, "seen": ta_seen, "score": "4"})
    assert again.status_code == 409 and "its return for revision was taken back" in again.get_data(as_text=True)
    with app.app_context():
        assert [g.score for g in db.session.scalars(db.select(Grade).order_by(Grade.id))] == [3, 3]


def test_reimporting_the_export_does_not_add_the_earlier_version_again(app, world):
    from lti_app.coursework.imports import import_rows

    _graded_returned_revised(app, world)
    with app.app_context():
        assignment = db.session.get(Assignment, world.assignment_a)
        result = import_rows(assignment, [{"text": FIRST, "score": 3, "trait_scores": {}, "comment": "Give evidence."}],
                             grader_id=None)
        db.session.commit()
        assert (result.added, result.unchanged) == (0, 1)
    assert _training_set(app, world) == [(FIRST, 3)]


def test_a_return_taken_back_while_the_student_revises_is_explained_and_the_text_kept(app, world):
    """The student opened the returned essay and wrote a revision; meanwhile the teacher took the
    return back. Handing in is refused with the reason, and the page shows the revision back
    (read-only) so the student's work is not lost; nothing is stored."""
    teacher, t_csrf = _teacher(app, world)
    student, s_csrf = _student(app, world)
    essay_page = f"/coursework/a/{world.assignment_a}/essay"
    _grade(teacher, t_csrf, world, "2", "Too short.")
    teacher.post(f"{_grade_url(world)}/return", data={"csrf_token": t_csrf})
    form = student.get(essay_page).get_data(as_text=True)
    assert 'name="revising" value="1"' in form
    teacher.post(f"{_grade_url(world)}/return", data={"csrf_token": t_csrf, "undo": "1"})
    with app.app_context():
        db.session.get(Assignment, world.assignment_a).allow_resubmit = False   # the form stays hidden
        db.session.commit()
    refused = student.post(essay_page, data={"csrf_token": s_csrf, "text": REVISED, "revising": "1"})
    page = refused.get_data(as_text=True)
    assert refused.status_code == 400 and "took back the return for revision" in page
    assert re.search(r'<textarea id="refused-text"[^>]*readonly[^>]*>' + re.escape(REVISED) + "</textarea>", page)
    assert 'name="text"' not in page
    assert _status(app, world) == SubmissionStatus.GRADED
    with app.app_context():
        assert db.session.get(Submission, world.essay_a).text == FIRST
