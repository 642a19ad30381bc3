"""The auto-feedback pieces without a worker or an LMS (Flask test client, fresh SQLite): what each
feedback mode does after scoring, the review queue and decisions, the dashboard's figures and actions,
and bad input (wrong role, no CSRF token, bad scores, stale proposals, foreign ids) answered in words."""
from __future__ import annotations

import re
from datetime import datetime, timezone

import pytest

from lti_app.extensions import db
from lti_app.models import (AiProposal, Assignment, DeadLetter, FeedbackMode, Grade, GradeSource, ModelVersion,
                            OutboxEvent, Role, Submission, SubmissionStatus, TrainingRun)
from tests.coursework.helpers import build_world, login
from worker import autofeedback
from worker.handlers import scoring

ESSAY = ("I think the face on mars is a natural landform because the nasa pictures from 2001 show a mesa. "
         "The article says the shadows made it look like a face. ") * 4


@pytest.fixture
def world(app):
    w = build_world(app)
    with app.app_context():
        db.session.add(Grade(submission_id=_imported(w.assignment_a, "Essays with clear claims. " * 30),
                             score=4, comment="Explain each piece of evidence from the article more fully.",
                             source=GradeSource.IMPORT, score_min=1, score_max=6))
        db.session.commit()
    return w


def _imported(assignment_id: int, text: str) -> int:
    sub = Submission(assignment_id=assignment_id, user_id=None, text=text, word_count=len(text.split()),
                     status=SubmissionStatus.GRADED)
    db.session.add(sub)
    db.session.flush()
    return sub.id


def _propose(submission_id: int, score=4, confidence=0.5, feedback="", unusual=()) -> AiProposal:
    proposal = AiProposal(submission_id=submission_id, score=score, confidence=confidence,
                          trait_scores={"cohesion": 3}, feedback=feedback, status="pending", unusual=list(unusual))
    db.session.add(proposal)
    db.session.flush()
    return proposal


def _syncs() -> list[dict]:
    return [e.payload["payload"] for e in db.session.scalars(
        db.select(OutboxEvent).where(OutboxEvent.type == "gradebook.sync").order_by(OutboxEvent.id))]


def test_modes_are_registered_in_the_scoring_dispatch():
    assert scoring.FEEDBACK_MODES[FeedbackMode.REVIEW] is autofeedback.review
    assert scoring.FEEDBACK_MODES[FeedbackMode.AUTO_RELEASE] is autofeedback.auto_release
    assert scoring.FEEDBACK_MODES[FeedbackMode.OFF] is autofeedback.off


@pytest.mark.parametrize("mode, threshold, confidence, released", [
    (FeedbackMode.AUTO_RELEASE, 0.6, 0.9, True),
    (FeedbackMode.AUTO_RELEASE, 0.6, 0.59, False),
    (FeedbackMode.REVIEW, 0.0, 0.99, False),
])
def test_after_scoring(app, world, mode, threshold, confidence, released):
    with app.app_context():
        assignment = db.session.get(Assignment, world.assignment_a)
        assignment.feedback_mode, assignment.confidence_threshold = mode, threshold
        db.session.get(Submission, world.essay_a).text = ESSAY
        proposal = _propose(world.essay_a, confidence=confidence)
        scoring.FEEDBACK_MODES[mode](None, assignment, proposal)
        db.session.commit()
        assert proposal.feedback, "feedback is composed for every proposal the teacher or student may see"
        grade = db.session.scalar(db.select(Grade).filter_by(submission_id=world.essay_a))
        if released:
            assert proposal.status == "released" and grade.source == GradeSource.AI_AUTO
            assert grade.comment == proposal.feedback and not grade.is_training_example
            assert _syncs() == [{"assignment_id": assignment.id, "grade_id": grade.id, "submission_id": None,
                                 "activity_progress": None, "grading_progress": None}]
        else:
            assert proposal.status == "pending" and grade is None
            assert _syncs() == [{"assignment_id": assignment.id, "grade_id": None, "submission_id": world.essay_a,
                                 "activity_progress": "Submitted", "grading_progress": "PendingManual"}]


def test_off_mode_drops_the_proposal(app, world):
    with app.app_context():
        assignment = db.session.get(Assignment, world.assignment_a)
        assignment.feedback_mode = FeedbackMode.OFF
        proposal = _propose(world.essay_a)
        scoring.FEEDBACK_MODES[FeedbackMode.OFF](None, assignment, proposal)
        db.session.commit()
        assert db.session.scalar(db.select(db.func.count()).select_from(AiProposal)) == 0
        assert _syncs() == [] and db.session.scalar(db.select(Grade).filter_by(submission_id=world.essay_a)) is None


def _second_essay(app, world) -> int:
    with app.app_context():
        sub = Submission(assignment_id=world.assignment_a, user_id=world.student2_a, text=ESSAY, word_count=60)
        db.session.add(sub)
        db.session.commit()
        return sub.id


def _teacher(client, app, world, role=Role.INSTRUCTOR, user="teacher_a"):
    return login(client, app, course_id=world.course_a, user_id=getattr(world, user), role=role,
                 resource_link_id=world.link_a, platform_id=world.platform)


def test_an_unusual_essay_says_why_it_waits(app, client, world):
    """The scorer's reasons (worker.ml.envelope) reach the teacher in the queue and on the page."""
    other = _second_essay(app, world)
    reason = "much shorter than the essays the model learned from (2 words)"
    with app.app_context():
        odd = _propose(world.essay_a, score=1, confidence=0.0, unusual=[reason]).id
        plain = _propose(other, score=3, confidence=0.4).id
        db.session.commit()
    _teacher(client, app, world)
    queue = client.get(f"/review/a/{world.assignment_a}").get_data(as_text=True)
    row = queue[queue.index(f'data-proposal="{odd}"'):queue.index(f'data-proposal="{plain}"')]
    assert "unusual essay" in row and reason in row
    # In the page's text, for keyboard and touch readers too: not only in a hover title.
    assert f"<li>{reason}</li>" in row and "<details" in row and 'title="' not in row
    assert "unusual essay" not in queue[queue.index(f'data-proposal="{plain}"'):]
    page = client.get(f"/review/a/{world.assignment_a}/p/{odd}").get_data(as_text=True)
    assert 'id="unusual"' in page and f"<li>{reason}</li>" in page
    assert 'id="unusual"' not in client.get(f"/review/a/{world.assignment_a}/p/{plain}").get_data(as_text=True)


def test_queue_least_confident_first_and_decisions(app, client, world):
    other = _second_essay(app, world)
    with app.app_context():
        sure = _propose(world.essay_a, score=5, confidence=0.8, feedback="Strong evidence.").id
        unsure = _propose(other, score=2, confidence=0.3, feedback="Add evidence.").id
        db.session.commit()
    csrf = _teacher(client, app, world)
    page = client.get(f"/review/a/{world.assignment_a}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert text.index(f'data-proposal="{unsure}"') < text.index(f'data-proposal="{sure}"')

    url = f"/review/a/{world.assignment_a}/p/{sure}"
    shown = client.get(url).get_data(as_text=True)   # what approving sends, read before the button
    assert shown.index('<div id="proposed-feedback" class="feedback"><p class="essay">Strong evidence.</p></div>') \
        < shown.index('id="approve"')
    # A proposal made by hand (no version): nothing to mark (review/_traits.html marks by its version).
    assert "Proposed score <strong id=\"proposed-score\">5</strong> of 6; cohesion 3." in shown
    assert client.post(url, data={"action": "approve"}).status_code == 403, "no CSRF token, nothing stored"
    bad = client.post(url, data={"csrf_token": csrf, "action": "edit", "score": "9", "comment": "x"})
    assert bad.status_code == 400 and "score" in bad.get_data(as_text=True)
    ok = client.post(url, data={"csrf_token": csrf, "action": "edit", "score": "5", "comment": " Strong   evidence. ",
                                "trait:cohesion": "3"})
    assert ok.status_code == 303
    again = client.post(url, data={"csrf_token": csrf, "action": "approve"}, follow_redirects=True)
    assert "graded in the meantime" in again.get_data(as_text=True)
    # Edits sent for a proposal decided meanwhile are shown back, not dropped; nothing is stored.
    late = client.post(url, data={"csrf_token": csrf, "action": "edit", "score": "2",
                                  "comment": "Rewritten feedback that took ten minutes."})
    page = late.get_data(as_text=True)
    assert late.status_code == 409 and "graded in the meantime" in page
    assert re.search(r'<textarea id="kept-comment"[^>]*readonly[^>]*>Rewritten feedback that took ten minutes.', page)
    edited = client.post(f"/review/a/{world.assignment_a}/p/{unsure}",
                         data={"csrf_token": csrf, "action": "edit", "score": "3", "comment": "Add evidence."})
    assert edited.status_code == 303
    with app.app_context():
        grades = {g.submission_id: g for g in db.session.scalars(db.select(Grade).where(Grade.source.in_(
            (GradeSource.AI_APPROVED, GradeSource.AI_EDITED))))}
        assert grades[world.essay_a].source == GradeSource.AI_APPROVED, "whitespace alone is no edit"
        assert (grades[other].source, grades[other].score, grades[other].grader_id) == \
            (GradeSource.AI_EDITED, 3, world.teacher_a)
        events = db.session.scalars(db.select(OutboxEvent.type)).all()
        assert events.count("grade.created") == 2 and events.count("gradebook.sync") == 2
        assert db.session.get(AiProposal, unsure).status == "edited"
    assert "Nothing to review" in client.get(f"/review/a/{world.assignment_a}").get_data(as_text=True)


def test_students_and_other_courses_are_kept_out(app, client, world):
    with app.app_context():
        mine = _propose(world.essay_a).id
        theirs = _propose(world.essay_b).id
        db.session.commit()
    login(client, app, course_id=world.course_a, user_id=world.student1_a, role=Role.LEARNER,
          resource_link_id=world.link_a, platform_id=world.platform)
    for url in (f"/review/a/{world.assignment_a}", f"/review/a/{world.assignment_a}/p/{mine}",
                f"/dashboard/a/{world.assignment_a}", f"/dashboard/a/{world.assignment_a}/training.json"):
        assert client.get(url).status_code == 403, url
    _teacher(client, app, world)
    assert client.get(f"/review/a/{world.assignment_a}/p/{theirs}").status_code == 404
    assert client.get(f"/dashboard/a/{world.assignment_b}").status_code == 404


def _version(assignment_id: int, version: int, qwk: float, n: int, status="retired", onnx=None) -> ModelVersion:
    metrics = {"n": 12, "qwk": qwk, "exact": 0.5, "adjacent": 0.9, "smd": 0.05, "scale": [1, 6],
               "confusion": [[1 if i == j else 0 for j in range(6)] for i in range(6)],
               "smd_by_group": {"ELL": {"n": 6, "smd": -0.08, "small": False}}}
    mv = ModelVersion(assignment_id=assignment_id, version=version, status=status, approach="frozen-ridge",
                      path=f"/nonexistent/v{version}", onnx_path=onnx, n_train=n,
                      metrics={"held_out": metrics, "n_examples": n},
                      gate={"promote": True, "reasons": [f"passed: QWK {qwk:.3f}"],
                            "thresholds": {"max_smd": 0.15, "max_group_smd": 0.1}})
    db.session.add(mv)
    db.session.flush()
    return mv


def test_dashboard_report_progress_and_actions(app, client, world):
    with app.app_context():
        assignment = db.session.get(Assignment, world.assignment_a)
        _version(assignment.id, 1, 0.71, 40, onnx="/nonexistent/v1/model.onnx")
        current = _version(assignment.id, 2, 0.78, 80, status="promoted")
        assignment.current_model_id = current.id
        db.session.add(TrainingRun(assignment_id=assignment.id, status="running", phase="fine-tune", step=3,
                                   total_steps=4, eta_seconds=7.0, message="epoch 2",
                                   started_at=datetime(2026, 11, 28, 3, 24, 5, tzinfo=timezone.utc)))
        db.session.add(DeadLetter(message_id="m1", queue="gradebook", routing_key="gradebook",
                                  payload={"type": "gradebook.sync"}, reason="LMS said 400: not gradeable",
                                  attempts=1, assignment_id=assignment.id))
        db.session.commit()
    csrf = _teacher(client, app, world)
    status = client.get(f"/dashboard/a/{world.assignment_a}/training.json").get_json()
    assert (status["status"], status["fraction"], status["active"]) == ("running", 0.75, True)
    assert "<svg" in status["svg"] and "75" in status["svg"]
    # the instant with its offset, on SQLite (naive there) as on PostgreSQL
    assert (status["started_at"], status["finished_at"]) == ("2026-11-28T03:24:05+00:00", None)

    page = client.get(f"/dashboard/a/{world.assignment_a}").get_data(as_text=True)
    assert "Version 2 is scoring new essays" in page and "QWK vs your grades <strong>0.780</strong>" in page
    assert page.count("<svg") >= 5, "progress, agreement, confusion, QWK curve and SMD charts"
    assert "ELL (n=6)" in page and "LMS said 400" in page
    # version 1 has no export on disk: rollback would refuse it, so the page says why (plainly) instead of offering it
    assert "Use version 1" not in page and "Cannot be used again: its saved files are missing." in page
    mode = " ".join(re.sub(r"<[^>]+>", "", re.search(r'<p id="mode">(.*?)</p>', page, re.S).group(1)).split())
    assert re.match(r"Mode: [A-Z][^.]*[a-z)]\. Students (do not )?see an", mode), mode

    refused = client.post(f"/dashboard/a/{world.assignment_a}/rollback", data={"csrf_token": csrf, "version": "1"},
                          follow_redirects=True).get_data(as_text=True)
    assert "Nothing changed" in refused and "no exported model on disk" in refused
    junk = client.post(f"/dashboard/a/{world.assignment_a}/rollback", data={"csrf_token": csrf, "version": "x"},
                       follow_redirects=True)
    assert junk.status_code == 200 and "Choose a version" in junk.get_data(as_text=True)
    with app.app_context():
        dead_id = db.session.scalar(db.select(DeadLetter.id))
    retried = client.post(f"/dashboard/a/{world.assignment_a}/dead/{dead_id}/retry", data={"csrf_token": csrf},
                          follow_redirects=True).get_data(as_text=True)
    assert "is not a valid event" in retried, "a message without an envelope cannot be resent"
    too_few = client.post(f"/dashboard/a/{world.assignment_a}/train", data={"csrf_token": csrf}, follow_redirects=True)
    assert "Not trained: 1 graded essay," in too_few.get_data(as_text=True)
    with app.app_context():   # a setting below what training needs counts as that minimum (15)
        db.session.get(Assignment, world.assignment_a).min_graded = 1
        db.session.commit()
    too_few = client.post(f"/dashboard/a/{world.assignment_a}/train", data={"csrf_token": csrf}, follow_redirects=True)
    assert "Not trained: 1 graded essay, and this assignment needs 15 first." in too_few.get_data(as_text=True)
    assert "training starts at 15," in too_few.get_data(as_text=True), "the page names the minimum the worker uses"
    with app.app_context():
        for i in range(14):
            db.session.add(Grade(submission_id=_imported(world.assignment_a, f"Imported essay {i}. " * 20), score=3,
                                 source=GradeSource.IMPORT, score_min=1, score_max=6))
        db.session.commit()
    # While a run is under way "Train now" is off, and a post of it (an older page) queues nothing:
    # it used to train once more, on nearly the same grades, as soon as the run ended.
    page = client.get(f"/dashboard/a/{world.assignment_a}").get_data(as_text=True)
    assert re.search(r'<button[^>]*id="train-now"[^>]*disabled', page) and 'id="train-busy"' in page
    busy = client.post(f"/dashboard/a/{world.assignment_a}/train", data={"csrf_token": csrf}, follow_redirects=True)
    assert "A training is already under way" in busy.get_data(as_text=True)
    with app.app_context():
        assert not db.session.scalars(db.select(OutboxEvent).where(OutboxEvent.type == "training.due")).all()
        db.session.execute(db.update(TrainingRun).values(status="done"))
        db.session.commit()
    page = client.get(f"/dashboard/a/{world.assignment_a}").get_data(as_text=True)
    assert not re.search(r'<button[^>]*id="train-now"[^>]*disabled', page)
    trained = client.post(f"/dashboard/a/{world.assignment_a}/train", data={"csrf_token": csrf})
    assert trained.status_code == 303
    with app.app_context():
        due = db.session.scalars(db.select(OutboxEvent).where(OutboxEvent.type == "training.due")).all()
        assert [e.payload["payload"]["reason"] for e in due] == ["manual"]
    again = client.post(f"/dashboard/a/{world.assignment_a}/train", data={"csrf_token": csrf}, follow_redirects=True)
    assert "A training is already under way" in again.get_data(as_text=True), "requested, not yet started"


def test_dashboard_before_any_training(app, client, world):
    _teacher(client, app, world)
    page = client.get(f"/dashboard/a/{world.assignment_a}")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "No model scores essays yet" in text and "Not trained yet" in text
    assert "No quality figures yet" in text and "0 AI proposals waiting" in text
    assert client.get(f"/dashboard/a/{world.assignment_a}/training.json").get_json()["status"] == "none"


def test_a_proposal_for_a_replaced_essay_is_neither_listed_nor_approvable(app, client, world):
    from datetime import timedelta

    from lti_app.models.base import utcnow

    with app.app_context():
        stale = _propose(world.essay_a, feedback="About the old text.")
        stale.created_at = utcnow() - timedelta(minutes=5)
        db.session.get(Submission, world.essay_a).submitted_at = utcnow()   # handed in again since
        db.session.commit()
        stale_id = stale.id
    csrf = _teacher(client, app, world)
    assert "Nothing to review" in client.get(f"/review/a/{world.assignment_a}").get_data(as_text=True)
    answer = client.post(f"/review/a/{world.assignment_a}/p/{stale_id}", data={"csrf_token": csrf, "action": "approve"},
                         follow_redirects=True)
    assert "handed in a new version" in answer.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(db.select(Grade).filter_by(submission_id=world.essay_a)) is None


def test_rollback_puts_an_earlier_exported_version_back(app, client, world, tmp_path):
    graph = tmp_path / "v1" / "model.onnx"
    graph.parent.mkdir()
    graph.write_bytes(b"exported graph")   # rollback only checks that the export exists
    with app.app_context():
        assignment = db.session.get(Assignment, world.assignment_a)
        old = _version(assignment.id, 1, 0.74, 40, onnx=str(graph))
        old.promoted_at = old.created_at
        current = _version(assignment.id, 2, 0.78, 80, status="promoted", onnx=str(tmp_path / "v2.onnx"))
        assignment.current_model_id = current.id
        db.session.commit()
        old_id, current_id = old.id, current.id
    csrf = _teacher(client, app, world)
    done = client.post(f"/dashboard/a/{world.assignment_a}/rollback", data={"csrf_token": csrf, "version": "1"},
                       follow_redirects=True).get_data(as_text=True)
    assert "Version 1 scores new essays again" in done and "Version 1 is scoring new essays" in done
    with app.app_context():
        assert db.session.get(Assignment, world.assignment_a).current_model_id == old_id
        assert db.session.get(ModelVersion, current_id).status == "retired"
        assert db.session.get(ModelVersion, old_id).gate["rollback"]["from_version"] == 2


def test_versions_rollback_would_refuse_are_not_offered(app, client, world, tmp_path):
    graphs = []
    for v in (1, 2, 3):
        graph = tmp_path / f"v{v}" / "model.onnx"
        graph.parent.mkdir()
        graph.write_bytes(b"exported graph")
        graphs.append(str(graph))
    with app.app_context():
        assignment = db.session.get(Assignment, world.assignment_a)
        usable = _version(assignment.id, 1, 0.74, 40, onnx=graphs[0])
        erased = _version(assignment.id, 2, 0.76, 60, onnx=graphs[1])
        erased.gate = {**erased.gate, "retired": {"reason": "it learnt from essays erased at a student's request"}}
        current = _version(assignment.id, 3, 0.78, 80, status="promoted", onnx=graphs[2])
        assignment.current_model_id = current.id
        db.session.commit()
    csrf = _teacher(client, app, world)
    page = client.get(f"/dashboard/a/{world.assignment_a}").get_data(as_text=True)
    assert "Use version 1" in page
    assert "Use version 2" not in page and "Use version 3" not in page
    assert "version 2 was taken out of service: it learnt from essays erased at a student&#39;s request" in page
    refused = client.post(f"/dashboard/a/{world.assignment_a}/rollback", data={"csrf_token": csrf, "version": "2"},
                          follow_redirects=True).get_data(as_text=True)
    assert "Nothing changed" in refused, "the server still refuses what the page no longer offers"


def test_failed_gradebook_update_names_the_essay_and_retry_queues_it(app, client, world):
    with app.app_context():
        grade = Grade(submission_id=world.essay_a, score=4, source=GradeSource.TEACHER, score_min=1, score_max=6)
        db.session.add(grade)
        db.session.flush()
        student = db.session.get(Submission, world.essay_a).user
        student.name = "Ada Lovelace"
        db.session.add(DeadLetter(message_id="m2", queue="gradebook", routing_key="gradebook",
                                  payload={"event_id": "e2", "type": "gradebook.sync",
                                           "payload": {"assignment_id": world.assignment_a, "grade_id": grade.id}},
                                  reason="LMS said 422: score out of range", attempts=5,
                                  assignment_id=world.assignment_a))
        db.session.commit()
        dead_id = db.session.scalar(db.select(DeadLetter.id).where(DeadLetter.message_id == "m2"))
    csrf = _teacher(client, app, world)
    page = client.get(f"/dashboard/a/{world.assignment_a}").get_data(as_text=True)
    row = re.search(r"<tr><td><time [^>]*>[^<]*</time></td><td>([^<]*)</td><td>LMS said 422", page)
    assert row and row.group(1).startswith("Ada Lovelace ("), page[page.find("dead-letters"):][:800]
    retried = client.post(f"/dashboard/a/{world.assignment_a}/dead/{dead_id}/retry", data={"csrf_token": csrf},
                          follow_redirects=True).get_data(as_text=True)
    assert "queued to be sent again" in retried and "was sent again" not in retried


def test_ticked_proposals_are_approved_together(app, client, world):
    """Several at once, each as its own "Approve" would; an unusual essay is never approved from
    the list, one decided meanwhile is skipped and said, a foreign id changes nothing."""
    other = _second_essay(app, world)
    with app.app_context():
        sure = _propose(world.essay_a, score=5, confidence=0.8, feedback="Strong evidence.").id
        odd = _propose(other, score=1, confidence=0.2, unusual=["much shorter than the essays"]).id
        theirs = _propose(world.essay_b).id
        db.session.commit()
    csrf = _teacher(client, app, world)
    url = f"/review/a/{world.assignment_a}/approve"
    page = client.get(f"/review/a/{world.assignment_a}").get_data(as_text=True)
    assert f'name="proposal" value="{sure}"' in page and f'name="proposal" value="{odd}"' not in page
    assert client.post(url, data={"proposal": [str(sure)]}).status_code == 403, "no CSRF token"
    assert client.post(url, data={"csrf_token": csrf, "proposal": [str(sure), str(theirs)]}).status_code == 404
    for bad in ("x", "\u00b2", "9" * 30):
        assert client.post(url, data={"csrf_token": csrf, "proposal": [bad]}).status_code == 400, bad
    empty = client.post(url, data={"csrf_token": csrf}, follow_redirects=True)
    assert "Tick at least one proposal" in empty.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Grade.id)).where(Grade.source == GradeSource.AI_APPROVED)) == 0
    done = client.post(url, data={"csrf_token": csrf, "proposal": [str(sure), str(odd), f"0{sure}"]},
                       follow_redirects=True).get_data(as_text=True)
    assert "1 proposal approved." in done and "1 unusual essay was not approved" in done
    with app.app_context():
        (grade,) = db.session.scalars(db.select(Grade).where(Grade.source == GradeSource.AI_APPROVED)).all()
        assert (grade.submission_id, grade.score, grade.comment, grade.grader_id) == \
            (world.essay_a, 5, "Strong evidence.", world.teacher_a)
        assert db.session.get(AiProposal, odd).status == "pending"
    again = client.post(url, data={"csrf_token": csrf, "proposal": [str(sure)]}, follow_redirects=True)
    assert "0 proposals approved. 1 had been graded, decided or replaced" in again.get_data(as_text=True)


def test_a_database_error_midway_through_a_bulk_approval_is_reported_not_a_500(app, client, world):
    """The database refuses the second approval's grade (a real SQLite trigger, as a full disk or a
    dropped connection would): the first stays approved with its LMS update in the outbox, the
    second stays pending, and the teacher is told which happened instead of getting a 500 page."""
    other = _second_essay(app, world)
    with app.app_context():
        first = _propose(world.essay_a, score=5, confidence=0.8).id
        second = _propose(other, score=3, confidence=0.8).id
        db.session.commit()
        db.session.execute(db.text(
            f"CREATE TRIGGER refuse_grade BEFORE INSERT ON grades WHEN NEW.submission_id = {other} "
            "BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END"))
        db.session.commit()
    csrf = _teacher(client, app, world)
    answer = client.post(f"/review/a/{world.assignment_a}/approve",
                         data={"csrf_token": csrf, "proposal": [str(first), str(second)]}, follow_redirects=True)
    page = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert "1 proposal approved. 1 could not be saved (a database error) and is still waiting" in page
    with app.app_context():
        assert db.session.get(AiProposal, first).status == "approved"
        assert db.session.get(AiProposal, second).status == "pending"
        (grade,) = db.session.scalars(db.select(Grade).where(Grade.source == GradeSource.AI_APPROVED)).all()
        assert grade.submission_id == world.essay_a
        assert db.session.get(Submission, other).status != SubmissionStatus.GRADED
        syncs = db.session.scalars(db.select(OutboxEvent).where(OutboxEvent.type == "gradebook.sync")).all()
        assert grade.id in [e.payload["payload"].get("grade_id") for e in syncs]
