"""`gradeloop privacy`: a school's data-protection requests for one person. Export holds all their
essays and grades; erasure removes them, their roles, name and e-mail, and the anonymous copies of
their essays a course copy made, leaves everyone else's essays, queues retraining, and with
--drop-models deletes the model versions trained on them (rows and files)."""
import json
from pathlib import Path

from lti_app.erasure import privacy_group
from lti_app.extensions import db
from lti_app.models import Assignment, Course, CourseRole, ModelVersion, OutboxEvent, Submission, User
from tests.coursework.flows import (ESSAYS, NEW_COURSE, create_by_deep_link, grade_page_for, graded_two_essays,
                                    link_copied, open_assignment, post_form, submit_essay)


def _cli(tool, *args, input=None):
    return tool.app.test_cli_runner().invoke(cli=privacy_group, args=list(args), input=input)


def _copied_course_with_a_model(peer, tool, original):
    teacher, setup = open_assignment(peer, tool, role="Instructor", user_id="teacher-1",
                                     resource_link_id=link_copied(peer, original), course_id=NEW_COURSE)
    assert "training data: 2." in post_form(teacher, setup, action_contains="/setup").text
    with tool.app.app_context():
        copy = db.session.scalar(db.select(Assignment).join(Course).where(Course.context_id == NEW_COURSE))
        folder = Path(tool.app.config["GRADELOOP_DATA_DIR"]) / "models" / f"assignment-{copy.id}" / "v1"
        folder.mkdir(parents=True)
        (folder / "model.int8.onnx").write_bytes(b"trained on both essays")
        version = ModelVersion(assignment_id=copy.id, version=1, status="promoted", approach="frozen-ridge",
                               path=str(folder), onnx_path=str(folder / "model.int8.onnx"), n_train=2)
        db.session.add(version)
        db.session.flush()
        copy.current_model_id = version.id
        db.session.commit()
        return copy.id, folder


def test_export_then_erase_one_student_everywhere(peer, tool_server):
    original = graded_two_essays(peer, tool_server)
    copy_id, folder = _copied_course_with_a_model(peer, tool_server, original)
    # A training killed while it wrote v2: no row names the directory, its meta lists the essays.
    half_written = folder.parent / "v2"
    half_written.mkdir()
    (half_written / "meta.json").write_text('{"train_submission_ids": [1, 2]}')
    student, page = open_assignment(peer, tool_server, user_id="student-1",
                                    resource_link_id=original["resource_link_id"])
    name, text, score = ESSAYS["student-1"]
    exported = _cli(tool_server, "export-user", "--sub", "student-1")
    assert exported.exit_code == 0, exported.output
    record = json.loads(exported.output)
    assert record["name"] == name and record["sub"] == "student-1"
    assert [e["text"] for e in record["essays"]] == [text]
    assert record["essays"][0]["grades"][0]["score"] == float(score)
    assert record["essays"][0]["grades"][0]["comment"] == f"Well argued, {name}."

    refused = _cli(tool_server, "erase-user", "--sub", "student-1", "--drop-models", input="n\n")
    assert refused.exit_code != 0 and "Aborted" in refused.output
    erased = _cli(tool_server, "erase-user", "--sub", "student-1", "--drop-models", "--yes")
    assert erased.exit_code == 0, erased.output
    assert "erased: 1 essays, 1 copies without a student, 1 course roles, 1 model versions" in erased.output
    with tool_server.app.app_context():
        assert db.session.scalar(db.select(User).filter_by(sub="student-1")) is None
        left = db.session.scalars(db.select(Submission.text)).all()
        assert text not in left and sorted(left) == [ESSAYS["student-2"][1]] * 2   # original + copy
        assert db.session.scalar(db.select(db.func.count(CourseRole.id)).join(User)
                                 .where(User.sub == "student-1")) == 0
        assert db.session.scalar(db.select(ModelVersion).filter_by(assignment_id=copy_id)) is None
        assert db.session.get(Assignment, copy_id).current_model_id is None
        due = {e.payload["payload"]["assignment_id"] for e in db.session.scalars(
            db.select(OutboxEvent).filter_by(type="training.due"))
            if e.payload["payload"]["reason"] == "erasure"}
        assert due == set(db.session.scalars(db.select(Assignment.id)))
    assert not folder.exists() and not half_written.exists()
    # Their session cookie is still signed, but it names a person who is gone.
    assert student.get(page.url, timeout=30).status_code == 401
    gone = _cli(tool_server, "export-user", "--sub", "student-1")
    assert gone.exit_code != 0 and "no such user" in gone.output


def test_an_erased_persons_session_never_acts_as_the_next_new_person(peer, tool_server, monkeypatch):
    """SQLite gives the highest freed id to the next new row: the person who launches after the
    erasure of the newest person gets their id, and the erased person's still-signed session must
    not open that person's pages."""
    from lti_app import auth

    monkeypatch.setattr(auth, "CLOCK_SLACK_S", 0)    # the new person arrives within a second here
    original = graded_two_essays(peer, tool_server)
    link = original["resource_link_id"]
    erased, page = open_assignment(peer, tool_server, user_id="student-9", resource_link_id=link)
    assert _cli(tool_server, "erase-user", "--sub", "student-9", "--yes").exit_code == 0
    with tool_server.app.app_context():
        gone_id = db.session.scalar(db.select(db.func.max(User.id))) + 1
    newcomer, handed_in = submit_essay(peer, tool_server, link, "student-10",
                                       "The newcomer's own essay about the four-day week, written with care.",
                                       name="Nina Newcomer")
    with tool_server.app.app_context():
        new_id = db.session.scalar(db.select(User.id).filter_by(sub="student-10"))
    again = erased.get(page.url, timeout=30)
    assert again.status_code == 401, (gone_id, new_id, again.text[:300])
    assert "newcomer" not in again.text and "Nina Newcomer" not in again.text   # not even in the top bar
    assert "newcomer" in newcomer.get(handed_in.url, timeout=30).text    # the newcomer's own session works


def test_a_person_must_be_named_exactly(peer, tool_server):
    graded_two_essays(peer, tool_server)
    assert "give --sub" in _cli(tool_server, "erase-user", "--yes").output
    with tool_server.app.app_context():
        for user in db.session.scalars(db.select(User)):
            user.email = "shared@school.example"
        db.session.commit()
    ambiguous = _cli(tool_server, "erase-user", "--email", "Shared@School.example", "--yes")
    assert ambiguous.exit_code != 0 and "people match; add --issuer" in ambiguous.output
    with tool_server.app.app_context():
        assert db.session.scalar(db.select(db.func.count(Submission.id))) == 2   # nothing erased


def test_one_person_in_two_registrations_of_the_same_lms_is_handled_as_one(peer, tool_server):
    """Registering the same LMS again (a new client id) gives each person a second user row with
    the same issuer and sub: export and erasure take both, instead of refusing as ambiguous."""
    from lti_app.models import Platform

    graded_two_essays(peer, tool_server)
    with tool_server.app.app_context():
        first = db.session.scalar(db.select(Platform))
        again = Platform(issuer=first.issuer, client_id="re-registered", auth_login_url=first.auth_login_url,
                         auth_token_url=first.auth_token_url, key_set_url=first.key_set_url)
        db.session.add(again)
        db.session.flush()
        db.session.add(User(platform_id=again.id, sub="student-1", name="Ada Student"))
        db.session.commit()
    exported = _cli(tool_server, "export-user", "--sub", "student-1")
    assert exported.exit_code == 0, exported.output
    assert [entry["sub"] for entry in json.loads(exported.output)] == ["student-1", "student-1"]
    erased = _cli(tool_server, "erase-user", "--sub", "student-1", "--yes")
    assert erased.exit_code == 0 and "erased: 1 essays" in erased.output, erased.output
    with tool_server.app.app_context():
        assert db.session.scalar(db.select(db.func.count(User.id)).where(User.sub == "student-1")) == 0
        assert db.session.scalar(db.select(db.func.count(User.id)).where(User.sub == "student-2")) == 1


def test_a_running_training_keeps_the_version_it_is_writing(peer, tool_server):
    """--drop-models deletes the versions the database names, but not the folder of an assignment
    a training is writing to right now: its new version is a row when it ends (the erasure retrain
    replaces or retires it) or an orphan the scheduler removes."""
    from worker import leases
    from worker.handlers.training import lease_key

    original = graded_two_essays(peer, tool_server)
    copy_id, folder = _copied_course_with_a_model(peer, tool_server, original)
    writing = folder.parent / "v2"
    writing.mkdir()
    (writing / "meta.json").write_text("{}")
    with tool_server.app.app_context():
        assert leases.acquire(lease_key(copy_id), "gpu-worker/job", ttl=600)
    erased = _cli(tool_server, "erase-user", "--sub", "student-1", "--drop-models", "--yes")
    assert erased.exit_code == 0, erased.output
    assert not folder.exists() and writing.exists()


# --- classmates' AI feedback that quotes the teacher's comments on the erased essays ----------
# Reused verbatim as the package cut it from the comment: after the greeting, so in lower case.
STORY = "your story about your brother's accident moves the reader."


def _proposal(submission_id: int, feedback: str, status: str = "pending") -> int:
    from lti_app.models import AiProposal

    submission = db.session.get(Submission, submission_id)
    proposal = AiProposal(submission_id=submission_id, score=4, trait_scores={}, confidence=0.4, feedback=feedback,
                          status=status, essay_submitted_at=submission.submitted_at)
    db.session.add(proposal)
    db.session.flush()
    return proposal.id


def _course_where_the_ai_quoted_the_erased_students_comment(peer, tool):
    """Student-1's essay graded with a comment about their brother (opened with a greeting the
    feedback package cuts off); the AI's feedback for three classmates, written from it or not."""
    item = create_by_deep_link(peer, tool, prompt="Should students have a four-day week?")
    link = item["resource_link_id"]
    essays = {"student-1": ("Ada Student", "My brother was hurt in an accident on a school day, so rest matters."),
              "student-2": ("Bo Student", "A four-day week would let students rest and come back stronger."),
              "student-3": ("Cy Student", "Schools should keep five days because lessons need time."),
              "student-4": ("Di Student", "Families could spend Fridays together if school ended on Thursday."),
              "student-5": ("Ed Student", "Five days of school keep the routine that younger pupils need.")}
    for sub, (name, text) in essays.items():
        submit_essay(peer, tool, link, sub, text, name=name)
    teacher, listing = open_assignment(peer, tool, role="Instructor", user_id="teacher-1", resource_link_id=link)
    graded = post_form(teacher, grade_page_for(teacher, listing, "Ada Student"),
                       {"score": "5", "comment": f"Dear Ada, {STORY} "
                                                 "Add one more reason from the article."},
                       action_contains="/essays/")
    assert graded.status_code == 200, graded.text[:500]
    # Graded by the teacher while its proposal waited: settled, so no need to score it again.
    post_form(teacher, grade_page_for(teacher, listing, "Ed Student"), {"score": "3", "comment": "Good routine."},
              action_contains="/essays/")
    with tool.app.app_context():
        ids = {sub: db.session.scalar(db.select(Submission.id).join(User, User.id == Submission.user_id)
                                     .where(User.sub == sub)) for sub in essays}
        quoting = _proposal(ids["student-2"], f"{STORY} Strong reasons throughout.\n\n"
                                              "- The essay has 12 words.")
        other = _proposal(ids["student-3"], "Explain why five days help lessons, with an example.")
        released = _proposal(ids["student-4"], f"Add one more reason from the article.  {STORY}", status="released")
        settled = _proposal(ids["student-5"], "Add one more reason\nfrom the article.")
        db.session.commit()
    return ids, quoting, other, released, settled


def test_erasure_withdraws_classmates_pending_ai_feedback_that_quotes_the_comments_on_their_essays(peer, tool_server):
    """A pending proposal has reached nobody: it is deleted and the essay queued for scoring again
    (the hand-in event), so its feedback is written anew from the essays that remain. A released
    one reached the student and the LMS: left as it is, and counted for the school."""
    from lti_app.models import AiProposal

    ids, quoting, other, released, settled = _course_where_the_ai_quoted_the_erased_students_comment(peer, tool_server)
    with tool_server.app.app_context():
        before = db.session.scalar(db.select(db.func.max(OutboxEvent.id)))
        other_feedback = db.session.get(AiProposal, other).feedback
    erased = _cli(tool_server, "erase-user", "--sub", "student-1", "--yes")
    assert erased.exit_code == 0, erased.output
    assert "2 pending AI proposals withdrawn, 1 essays queued for scoring again" in erased.output, erased.output
    assert "1 already released" in erased.output, erased.output
    with tool_server.app.app_context():
        assert db.session.get(AiProposal, quoting) is None and db.session.get(AiProposal, settled) is None
        left = db.session.scalars(db.select(AiProposal.feedback).join(Submission)
                                  .where(Submission.id == ids["student-2"])).all()
        assert not any("brother" in f for f in left)
        queued = [e.payload["payload"] for e in db.session.scalars(
            db.select(OutboxEvent).where(OutboxEvent.id > before, OutboxEvent.type == "submission.created"))]
        assert [q["submission_id"] for q in queued] == [ids["student-2"]]
        assert db.session.get(AiProposal, other).feedback == other_feedback
        assert db.session.get(AiProposal, other).status == "pending"
        kept = db.session.get(AiProposal, released)
        assert kept.status == "released" and STORY in kept.feedback


def test_after_an_erasure_the_feedback_index_is_built_without_their_comments(peer, tool_server):
    """The worker's feedback index cache is keyed by the course's grading state (count and last
    id of the teacher's grades, the roster's names): an erasure changes it, so the next proposal's
    feedback is composed from the graded essays that remain, never from a cached index of before."""
    from worker.feedback.loading import load_graded_examples

    ids, *_ = _course_where_the_ai_quoted_the_erased_students_comment(peer, tool_server)
    with tool_server.app.app_context():
        assignment_id = db.session.get(Submission, ids["student-2"]).assignment_id
        graded = load_graded_examples(assignment_id)
        assert any("brother" in ex.comment for ex in graded)
    assert _cli(tool_server, "erase-user", "--sub", "student-1", "--yes").exit_code == 0
    with tool_server.app.app_context():
        after = load_graded_examples(assignment_id)
        assert not any("brother" in ex.comment for ex in after)
        assert (after.cache_key, after.names) != (graded.cache_key, graded.names)
