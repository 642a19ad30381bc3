"""Gradeloop's own course export imported into one assignment: rows of other assignments, their
empty `trait:` columns and ungraded essays; errors that name the row a spreadsheet shows; the
import error taking keyboard focus; the hand-in time of a graded earlier version in the export."""
import csv
import io

from lti_app.coursework.imports import import_rows
from lti_app.extensions import db
from lti_app.models import Assignment, Grade, ResourceLink, Submission
from tests.coursework.helpers import count
from tests.coursework.test_csv_and_data import _csv, _upload, teacher  # noqa: F401 (fixture)


def _assignment(world, title: str, trait: str) -> Assignment:
    """A new assignment of course A (caller's app context) behind a link of its own."""
    link = ResourceLink(course_id=world.course_a, resource_link_id=f"rl-{title}", title=title)
    db.session.add(link)
    db.session.flush()
    assignment = Assignment(course_id=world.course_a, resource_link_id=link.id, title=title, prompt="Write.",
                            score_min=1, score_max=6, resource_id=f"res-{title}",
                            traits=[{"name": trait, "min": 1, "max": 5}])
    db.session.add(assignment)
    db.session.flush()
    return assignment


def _second_assignment(app, world) -> int:
    """Another assignment of course A, with a trait of its own and two graded essays."""
    with app.app_context():
        other = _assignment(world, "Letter", "Grammar")
        import_rows(other, [{"text": f"A letter number {n}.", "score": 3, "trait_scores": {"Grammar": 2},
                             "comment": ""} for n in (1, 2)], grader_id=None)
        db.session.commit()
        return other.id


def _export(client) -> list[list[str]]:
    body = client.get("/coursework/course/export.csv").get_data(as_text=True).lstrip("\ufeff")
    return list(csv.reader(io.StringIO(body, newline="")))


def _file(rows: list[list[str]]) -> bytes:
    out = io.StringIO(newline="")
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return out.getvalue().encode("utf-8")


def _notice(client, answer) -> str:
    assert answer.status_code == 303, answer.get_data(as_text=True)
    return client.get(answer.headers["Location"]).get_data(as_text=True)


def test_the_whole_course_export_is_refused_naming_its_assignments(teacher, app, world):
    """Another assignment's essays are not training data for this one, and which assignment the
    teacher means cannot be told from the file (a new term's course has other ids)."""
    _second_assignment(app, world)
    assert _upload(teacher, world, _csv([("An essay about cars.", "4", "", "3", "")])).status_code == 303
    refused = _upload(teacher, world, _file(_export(teacher)))
    text = refused.get_data(as_text=True)
    assert refused.status_code == 400
    assert "the file holds essays of 2 assignments" in text
    assert "&#34;Essay a&#34;" in text and "&#34;Letter&#34;" in text
    assert "filter the assignment column" in text
    with app.app_context():
        assert count(Grade) == 3


def test_one_assignments_rows_of_the_export_import_as_they_are(teacher, app, world):
    """Filtered to one assignment, every column kept: the other assignment's (empty) trait column
    is ignored and the ungraded student essay is skipped, named by its row in the summary."""
    other = _second_assignment(app, world)
    with app.app_context():   # a fresh assignment of this course, to import into
        target = _assignment(world, "Essay a, again", "cohesion")
        db.session.commit()
        target_id = target.id
    assert _upload(teacher, world, _csv([("An essay about cars.", "4", "", "3", ""),
                                         ("An essay about buses.", "2", "", "", "")])).status_code == 303
    lines = _export(teacher)
    header = lines[0]
    assert "trait:Grammar" in header   # the other assignment's trait, written as it is spelt
    mine = [line for line in lines[1:] if line[header.index("assignment_id")] == str(world.assignment_a)]
    assert len(mine) == 3 and mine[0][header.index("score")] == ""   # the student's essay, not graded yet
    world.assignment_a = target_id
    notice = _notice(teacher, _upload(teacher, world, _file([header] + mine)))
    assert "Imported 2 graded essays. Skipped 1 row without a score (row 2): essays not graded yet are " \
           "not training data." in notice
    with app.app_context():
        assert count(Submission, assignment_id=target_id) == 2
        assert count(Submission, assignment_id=other) == 2


def test_a_trait_column_with_values_is_still_refused_as_written(teacher, app, world):
    refused = _upload(teacher, world, b"text,score,Trait:Style\nAn essay.,3,2\n")
    assert refused.status_code == 400
    assert "traits this assignment does not have: Trait:Style" in refused.get_data(as_text=True)
    empty = _upload(teacher, world, b"text,score,Trait:Style\nAn essay.,3,\n")
    assert empty.status_code == 303


def test_a_file_without_any_score_is_refused(teacher, app, world):
    refused = _upload(teacher, world, b"text,score\nFirst essay.,\nSecond essay.,\n")
    assert refused.status_code == 400
    assert "none of the 2 essays in the file has a score" in refused.get_data(as_text=True)


def test_a_row_with_a_grade_but_no_score_is_an_error_not_skipped(teacher, app, world):
    """A comment or trait score without the score is a grade missing a value, not an ungraded essay."""
    refused = _upload(teacher, world, b"text,score,comment\nFirst essay.,4,\nSecond essay.,,Good work\n")
    assert refused.status_code == 400
    assert "Row 3 (essay starting &#34;Second essay.&#34;): score is missing" in refused.get_data(as_text=True)


def test_errors_name_the_spreadsheet_row_and_the_start_of_the_essay(teacher, app, world):
    """Quoted essays span many lines of the file: the row is what a spreadsheet shows."""
    rows = [("Dear Principal,\nI think phones\nshould be allowed in class because they help.", "4", "", "", ""),
            ("Dear Principal,\n\nI think phones should be banned at school, always.", "9", "", "", ""),
            ("Dear Principal,\nI think phones\nshould be allowed in class because they help.", "5", "", "", "")]
    refused = _upload(teacher, world, _csv(rows))
    text = refused.get_data(as_text=True)
    assert refused.status_code == 400 and "Nothing was imported: 2 row(s) need fixing" in text
    assert ("Row 3 (essay starting &#34;Dear Principal, I think phones should be…&#34;): score must be a "
            "number from 1 to 6") in text
    assert ("Row 4 (essay starting &#34;Dear Principal, I think phones should be…&#34;): the same essay as "
            "row 2 but with a different score.") in text
    assert "Line " not in text


def test_broken_rows_name_the_row_and_the_line(teacher, app, world):
    data = b'text,score\n"An essay\nover two lines",3\nhello,3,extra\n'
    text = _upload(teacher, world, data).get_data(as_text=True)
    assert "Row 3 (line 4 of the file): 3 fields, but the header has 2" in text
    unclosed = _upload(teacher, world, b'text,score\nfine,3\n"unclosed,3\nmore,4\n').get_data(as_text=True)
    assert "row 3 (line 3 of the file) has a quote" in unclosed


def test_the_import_error_takes_keyboard_focus(teacher, app, world):
    page = _upload(teacher, world, b"text,score\nAn essay.,\n").get_data(as_text=True)
    assert 'id="import-error" tabindex="-1" data-focus-on-load' in page


def test_the_graded_earlier_version_has_no_hand_in_time_of_the_revision(app, world):
    """Its hand-in time is not stored; the revision's would date it after its own grade."""
    from tests.coursework.test_revision import FIRST, REVISED, _graded_returned_revised

    teacher = _graded_returned_revised(app, world)
    body = teacher.get("/coursework/course/export.csv").get_data(as_text=True).lstrip("\ufeff")
    rows = {r["text"]: r for r in csv.DictReader(io.StringIO(body)) if r["essay_id"] == str(world.essay_a)}
    assert rows[FIRST]["submitted_at"] == "" and rows[FIRST]["graded_at"]
    with app.app_context():
        revised_at = db.session.get(Submission, world.essay_a).submitted_at
    assert rows[REVISED]["submitted_at"][:19] == revised_at.isoformat()[:19]


def test_a_row_typed_with_the_title_but_no_id_is_the_same_assignment(teacher, app, world):
    """Each column on its own: the title alone does not make a second assignment, and two
    assignments sharing a title are still told apart by their ids."""
    header = ["assignment", "assignment_id", "text", "score"]
    same = _upload(teacher, world, _file([header, ["Essay a", "5", "A first essay on cars.", "4"],
                                          ["Essay a", "", "A second essay typed in.", "3"]]))
    assert same.status_code == 303, same.get_data(as_text=True)
    twins = _upload(teacher, world, _file([header, ["Essay a", "5", "A third essay on cars.", "4"],
                                           ["Essay a", "6", "A fourth essay on buses.", "3"]]))
    text = twins.get_data(as_text=True)
    assert twins.status_code == 400 and "2 assignments" in text
    assert "&#34;Essay a&#34;, id 5: 1 row" in text and "&#34;Essay a&#34;, id 6: 1 row" in text
