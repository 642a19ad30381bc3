"""Erasure finds the copies of a person's essays held without a student: a course copy's training
essays after the original course's data is deleted (the copy notes who wrote each essay), a copy
of that copy, a CSV re-import of a TA's export that wrote their name as [student]; and when
essays without a recorded writer exist, it says it cannot be sure it found every copy."""
from lti_app.course_admin import course_group
from lti_app.coursework import course_copy
from lti_app.coursework.data_admin import delete_course_data, export_records
from lti_app.coursework.imports import import_rows
from lti_app.erasure import privacy_group
from lti_app.extensions import db
from lti_app.models import Assignment, Course, Grade, Submission, User
from tests.coursework.flows import (ESSAYS, NEW_COURSE, create_by_deep_link, graded_two_essays, link_copied,
                                    open_assignment, post_form, submit_essay)

INCOMPLETE = "copies may have been missed"


def _cli(tool, group, *args):
    return tool.app.test_cli_runner().invoke(cli=group, args=list(args))


def _copied_course(peer, tool, original) -> int:
    """Next year's course, set up from the original with its two graded essays as training data."""
    teacher, setup = open_assignment(peer, tool, role="Instructor", user_id="teacher-1",
                                     resource_link_id=link_copied(peer, original), course_id=NEW_COURSE)
    assert "training data: 2." in post_form(teacher, setup, action_contains="/setup").text
    with tool.app.app_context():
        return db.session.scalar(db.select(Assignment.id).join(Course).where(Course.context_id == NEW_COURSE))


def _texts(tool) -> list[str]:
    with tool.app.app_context():
        return sorted(db.session.scalars(db.select(Submission.text)))


def test_a_course_copy_notes_who_wrote_each_essay(peer, tool_server):
    copy_id = _copied_course(peer, tool_server, graded_two_essays(peer, tool_server))
    with tool_server.app.app_context():
        writers = dict(db.session.execute(db.select(Submission.text, User.sub)
                                          .join(User, User.id == Submission.source_user_id)
                                          .where(Submission.assignment_id == copy_id)).all())
    assert writers == {text: sub for sub, (_, text, _) in ESSAYS.items()}


def test_after_the_old_course_is_deleted_erasure_still_finds_the_copies(peer, tool_server):
    """Retention, then erasure: last year's course is deleted (`course delete`, as a purge does);
    this year's course copy still holds the student's essay as training data."""
    _copied_course(peer, tool_server, graded_two_essays(peer, tool_server))
    with tool_server.app.app_context():
        old = db.session.scalar(db.select(Course.id).where(Course.context_id != NEW_COURSE))
    assert _cli(tool_server, course_group, "delete", "--course", str(old), "--yes").exit_code == 0
    assert _texts(tool_server) == sorted(text for _, text, _ in ESSAYS.values())   # the copies only

    asked = tool_server.app.test_cli_runner().invoke(cli=privacy_group, args=["erase-user", "--sub", "student-1"],
                                                     input="n\n")
    assert "their 0 essays and 1 copy of their essays held without a student?" in asked.output, asked.output
    erased = _cli(tool_server, privacy_group, "erase-user", "--sub", "student-1", "--yes")
    assert erased.exit_code == 0, erased.output
    assert "erased: 0 essays, 1 copies without a student" in erased.output
    assert _texts(tool_server) == [ESSAYS["student-2"][1]]
    # Every essay left without a student records its writer: nothing to warn about.
    assert INCOMPLETE not in erased.output


def test_a_copy_of_a_copy_names_the_first_writer(peer, tool_server):
    """Term 3 copied from term 2, whose essays were themselves copied from term 1: after terms 1
    and 2 are deleted, term 3's copy is still found."""
    middle = _copied_course(peer, tool_server, graded_two_essays(peer, tool_server))
    with tool_server.app.app_context():
        source = db.session.get(Assignment, middle)
        course = db.session.get(Course, source.course_id)
        later = Course(platform_id=course.platform_id, context_id="course-2028", title="Term 3")
        db.session.add(later)
        db.session.flush()
        target = Assignment(course_id=later.id, title="Persuasive essay", score_min=1, score_max=6,
                            traits=source.traits)
        db.session.add(target)
        db.session.flush()
        assert course_copy.copy_graded_essays(source, target, grader_id=None) == 2
        db.session.commit()
        target_id = target.id
        for course_id in db.session.scalars(db.select(Course.id).where(Course.id != later.id)).all():
            delete_course_data(course_id)
    erased = _cli(tool_server, privacy_group, "erase-user", "--sub", "student-1", "--yes")
    assert "erased: 0 essays, 1 copies without a student" in erased.output, erased.output
    with tool_server.app.app_context():
        assert db.session.scalars(db.select(Submission.text).filter_by(assignment_id=target_id)).all() == [
            ESSAYS["student-2"][1]]


SIGNED = ("By Ada Student\n\nMy little brother was in hospital all spring, and the four-day week "
          "would have let my family visit him on Fridays without missing lessons.")


def test_erasure_finds_a_reimported_ta_export_of_an_anonymous_assignment(peer, tool_server):
    """A TA's export of an anonymously graded assignment writes the signed name as [student]; the
    file re-imported (next term's assignment) holds the essay in that form."""
    item = create_by_deep_link(peer, tool_server, title="Persuasive essay")
    submit_essay(peer, tool_server, item["resource_link_id"], "student-1", SIGNED, name="Ada Student")
    with tool_server.app.app_context():
        sub = db.session.scalar(db.select(Submission))
        assignment = db.session.get(Assignment, sub.assignment_id)
        assignment.anonymous_grading = True
        db.session.add(Grade(submission_id=sub.id, score=5, comment="Moving and well argued.", source="teacher",
                             score_min=1, score_max=6))
        db.session.commit()
        (row,) = [r for r in export_records(assignment.course_id, names_of_anonymous=False) if r.get("score")]
        assert row["text"].startswith("By [student]")
        # Hiding names switched off since the export: the re-import is still recognised.
        assignment.anonymous_grading = False
        target = Assignment(course_id=assignment.course_id, title="Next term", score_min=1, score_max=6)
        db.session.add(target)
        db.session.flush()
        import_rows(target, [{"text": row["text"], "score": 5, "trait_scores": {}, "comment": row["comment"],
                              "group": None}], None)
        db.session.commit()
    erased = _cli(tool_server, privacy_group, "erase-user", "--sub", "student-1", "--yes")
    assert "erased: 1 essays, 1 copies without a student" in erased.output, erased.output
    assert _texts(tool_server) == []


def test_erasure_says_when_it_cannot_be_sure_it_found_every_copy(peer, tool_server):
    """A CSV import records no writer. Once the student's own essays are gone, erasure has nothing
    to compare such essays with, and says so instead of implying it found every copy."""
    graded_two_essays(peer, tool_server)
    with tool_server.app.app_context():
        assignment = db.session.scalar(db.select(Assignment))
        import_rows(assignment, [{"text": "An essay from last year's spreadsheet, writer unknown.", "score": 3,
                                  "trait_scores": {}, "comment": "", "group": None}], None)
        db.session.commit()
        course_id = assignment.course_id
    # The student's essay is compared with it (and is not it): said, but milder.
    still_held = _cli(tool_server, privacy_group, "erase-user", "--sub", "student-2", "--yes").output
    assert f"{INCOMPLETE}: 1 essays without a student do not record who wrote them" in still_held
    assert f"(course {course_id}): 1;" in still_held, "it names the course that holds them"
    assert "compared with the texts of this person's essays still held only" in still_held
    with tool_server.app.app_context():
        delete_course_data(course_id)
        assignment = Assignment(course_id=course_id, title="Next term", score_min=1, score_max=6)
        db.session.add(assignment)
        db.session.flush()
        import_rows(assignment, [{"text": "Another imported essay.", "score": 3, "trait_scores": {}, "comment": "",
                                  "group": None}], None)
        db.session.commit()
    erased = _cli(tool_server, privacy_group, "erase-user", "--sub", "student-1", "--yes")
    assert erased.exit_code == 0, erased.output
    assert "erased: 0 essays, 0 copies without a student" in erased.output
    assert f"{INCOMPLETE}: 1 essays without a student" in erased.output
    assert "they have no essays left in Gradeloop to compare them with" in erased.output


def test_a_person_merged_by_a_re_registration_keeps_their_copies(app):
    """`platform move-courses` makes a person who launched through both registrations one again:
    the copies of the essays they wrote through the new one stay theirs for erasure."""
    from tests.lti.test_reregistration import _course, _move, _person, _platform

    with app.app_context():
        old = _platform("client-7")
        student = _person(old, "u-5", _course(old, "course-12"))
        new = _platform("client-8")
        elsewhere = _course(new, "course-99", assignment="New course's essay")
        twin = _person(new, "u-5", elsewhere)
        original = db.session.scalar(db.select(Assignment).filter_by(course_id=elsewhere))
        later = Assignment(course_id=_course(new, "course-100"), title="Next term", score_min=1, score_max=6)
        db.session.add(later)
        db.session.flush()
        db.session.add(Submission(assignment_id=original.id, user_id=twin, text=SIGNED, word_count=20))
        db.session.add(Grade(submission_id=db.session.scalar(db.select(Submission.id)), score=4, source="teacher",
                             score_min=1, score_max=6))
        db.session.flush()
        assert course_copy.copy_graded_essays(original, later, grader_id=None) == 1
        db.session.commit()
    assert _move(app, old, new).exit_code == 0
    with app.app_context():
        delete_course_data(elsewhere)
    erased = app.test_cli_runner().invoke(cli=privacy_group, args=["erase-user", "--sub", "u-5", "--yes"])
    assert "erased: 0 essays, 1 copies without a student" in erased.output, erased.output
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Submission.id))) == 0
        assert db.session.get(User, student) is None


def test_the_note_is_about_the_persons_own_lms_not_the_whole_instance(app):
    """Essays imported by another school (another LMS on the same instance) cannot be this
    person's copies: an erasure does not say copies may have been missed because of them."""
    from tests.worker.coursework import make_assignment

    with app.app_context():
        school_a = make_assignment()
        ada = User(platform_id=db.session.get(Course, school_a.course_id).platform_id, sub="ada", name="Ada")
        db.session.add(ada)
        db.session.flush()
        db.session.add(Submission(assignment_id=school_a.id, user_id=ada.id, text="Ada's own essay. " * 20,
                                  word_count=60))
        school_b = make_assignment()
        import_rows(school_b, [{"text": f"Last year's essay {i}. " * 20, "score": 3, "trait_scores": {},
                                "comment": "", "group": None} for i in range(3)], None)
        db.session.commit()
    erased = app.test_cli_runner().invoke(cli=privacy_group, args=["erase-user", "--sub", "ada", "--yes"])
    assert erased.exit_code == 0 and "erased: 1 essays" in erased.output, erased.output
    assert INCOMPLETE not in erased.output, erased.output
