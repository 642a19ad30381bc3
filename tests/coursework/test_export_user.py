"""`gradeloop privacy export-user` answers an access request with everything erase-user would
delete or that is held about the person: the upload's file name, the copies of their essays held
without a student (as erasure finds them), the AI proposals' status, "unusual" reasons and
decision time, the grades they gave as a teacher, and a note when copies may be missing."""
import json
from datetime import datetime, timezone

from lti_app.coursework.imports import import_rows
from lti_app.erasure import BY_WRITER, privacy_group
from lti_app.extensions import db
from lti_app.models import AiProposal, Assignment, Course, Submission
from tests.coursework.flows import ESSAYS, NEW_COURSE, graded_two_essays, link_copied, open_assignment, post_form


def _cli(tool, *args):
    return tool.app.test_cli_runner().invoke(cli=privacy_group, args=list(args))


def _exported(tool, sub: str) -> dict:
    out = _cli(tool, "export-user", "--sub", sub)
    assert out.exit_code == 0, out.output
    return json.loads(out.output)


def test_export_lists_the_file_name_and_the_ai_proposals_decisions(peer, tool_server):
    graded_two_essays(peer, tool_server)
    decided = datetime(2027, 3, 1, 12, 0, tzinfo=timezone.utc)
    with tool_server.app.app_context():
        essay = db.session.scalar(db.select(Submission).where(Submission.text == ESSAYS["student-1"][1]))
        essay.filename = "Ada_Student_persuasive_final.docx"   # as an upload stores it
        db.session.add(AiProposal(submission_id=essay.id, score=5, trait_scores={}, confidence=0.3,
                                  feedback="Strong reasons.", status="approved", decided_at=decided,
                                  unusual=["much longer than the essays the model learnt from"]))
        db.session.commit()
    (record,) = _exported(tool_server, "student-1")["essays"]
    assert record["filename"] == "Ada_Student_persuasive_final.docx"
    assert record["course"] and record["text"] == ESSAYS["student-1"][1]
    (proposal,) = record["ai_proposals"]
    assert proposal["status"] == "approved" and proposal["decided_at"].startswith("2027-03-01T12:00")
    assert proposal["unusual"] == ["much longer than the essays the model learnt from"]


def test_export_lists_the_copies_erase_user_deletes(peer, tool_server):
    """A course copy holds the student's essay with its grade as next year's training data:
    erase-user deletes it as theirs, so the access answer lists it."""
    original = graded_two_essays(peer, tool_server)
    teacher, setup = open_assignment(peer, tool_server, role="Instructor", user_id="teacher-1",
                                     resource_link_id=link_copied(peer, original), course_id=NEW_COURSE)
    assert "training data: 2." in post_form(teacher, setup, action_contains="/setup").text
    exported = _exported(tool_server, "student-1")
    assert [e["text"] for e in exported["essays"]] == [ESSAYS["student-1"][1]]   # the key kept its meaning
    (copy,) = exported["copies"]
    assert copy["text"] == ESSAYS["student-1"][1] and copy["found_by"] == BY_WRITER
    assert copy["grades"][0]["source"] == "import" and copy["grades"][0]["score"] == float(ESSAYS["student-1"][2])
    with tool_server.app.app_context():
        assert copy["course"] == db.session.scalar(db.select(Course.title).where(Course.context_id == NEW_COURSE))
    assert exported["copies_note"] is None
    erased = _cli(tool_server, "erase-user", "--sub", "student-1", "--yes").output
    assert f"erased: {len(exported['essays'])} essays, {len(exported['copies'])} copies without a student" in erased


def test_export_lists_the_grades_a_teacher_gave(peer, tool_server):
    graded_two_essays(peer, tool_server)
    given = _exported(tool_server, "teacher-1")["grades_given"]
    assert sorted((g["score"], g["comment"]) for g in given) == sorted(
        (float(score), f"Well argued, {name}.") for name, _, score in ESSAYS.values())
    assert all(g["assignment"] == "Persuasive essay" and g["essay"].startswith("Essay #") for g in given)


def test_export_says_when_copies_may_be_missing(peer, tool_server):
    """An imported essay records no writer: the export cannot rule out that it is theirs."""
    graded_two_essays(peer, tool_server)
    with tool_server.app.app_context():
        import_rows(db.session.scalar(db.select(Assignment)), [
            {"text": "An essay from last year's spreadsheet.", "score": 3, "trait_scores": {}, "comment": "",
             "group": None}], None)
        db.session.commit()
    exported = _exported(tool_server, "student-1")
    assert exported["copies"] == []
    assert exported["copies_note"].startswith("copies may have been missed: 1 essays without a student")
