"""CSV import (real essays; all-or-nothing with row numbers; broken files; a file uploaded again
or corrected; removing imported essays), export that imports back unchanged, deleting a course's
data, and the settings page."""
import csv
import io
from datetime import datetime, timedelta

import pytest

from lti_app.extensions import db
from lti_app.models import (Assignment, FeedbackMode, Grade, GradeSource, ModelVersion, OutboxEvent, Role,
                            Submission)
from tests.coursework.helpers import count, login


@pytest.fixture
def teacher(client, app, world):
    token = login(client, app, course_id=world.course_a, user_id=world.teacher_a, role=Role.INSTRUCTOR)
    client.csrf = token
    return client


def _upload(client, world, data: bytes):
    return client.post(f"/coursework/a/{world.assignment_a}/import",
                       data={"csrf_token": client.csrf, "file": (io.BytesIO(data), "grades.csv")},
                       content_type="multipart/form-data")


def _csv(rows, header=("text", "score", "comment", "trait:cohesion", "group")) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def _real_essays(shared_data, n):
    with open(shared_data / "persuade" / "0" / "train.csv", newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        return [next(reader) for _ in range(n)]


def test_import_real_graded_essays(teacher, app, world, shared_data):
    essays = _real_essays(shared_data, 40)
    rows = [(e["full_text"], e["holistic_essay_score"], "", "", "ell" if i % 3 == 0 else "") for i, e in enumerate(essays)]
    response = _upload(teacher, world, _csv(rows))
    assert response.status_code == 303
    with app.app_context():
        imported = db.session.scalars(db.select(Submission).filter_by(assignment_id=world.assignment_a, user_id=None)
                                      .order_by(Submission.id)).all()
        assert len(imported) == 40 and imported[0].text == essays[0]["full_text"].strip()
        assert sum(1 for s in imported if s.group_label == "ell") == 14
        grades = db.session.scalars(db.select(Grade).filter_by(source=GradeSource.IMPORT)).all()
        assert sorted(g.score for g in grades) == sorted(float(e["holistic_essay_score"]) for e in essays)
        assert all(g.is_training_example and g.score_max == 6 for g in grades)
        assert count(OutboxEvent, type="training.due") == 1 and count(OutboxEvent, type="gradebook.sync") == 0
    page = teacher.get(f"/coursework/a/{world.assignment_a}").get_data(as_text=True)
    assert "40 imported graded essays" in page
    essay_url = f"/coursework/a/{world.assignment_a}/essays/{imported[0].id}"
    shown = teacher.get(essay_url).get_data(as_text=True)
    assert "Imported essay #" in shown and "not sent to the LMS" in shown
    regraded = teacher.post(essay_url, data={"csrf_token": teacher.csrf, "score": "3"}, follow_redirects=True)
    assert regraded.status_code == 200 and "Grade saved." in regraded.get_data(as_text=True)


def test_trait_columns_match_case_insensitively(teacher, app, world):
    assert _upload(teacher, world, b"Text,Score,TRAIT:Cohesion\nAn essay.,4,5\n").status_code == 303
    with app.app_context():
        assert db.session.scalar(db.select(Grade)).trait_scores == {"cohesion": 5}


def test_bad_rows_are_all_reported_and_nothing_is_imported(teacher, app, world):
    rows = [("Good essay one.", "4", "fine", "3", ""),
            ("Multi-line\nessay\nspans lines 3-5.", "9", "", "2", ""),   # score out of range
            ("", "3", "", "", ""),                                      # empty text
            ("Fine again.", "abc", "", "7", "")]                        # bad score and trait
    response = _upload(teacher, world, _csv(rows))
    text = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Nothing was imported: 3 row(s) need fixing" in text
    # Rows as a spreadsheet numbers them (the header is row 1), not the file's lines.
    assert ("Row 3 (essay starting &#34;Multi-line essay spans lines 3-5.&#34;): score must be a number "
            "from 1 to 6") in text
    assert "Row 4: text is empty" in text
    assert ("Row 5 (essay starting &#34;Fine again.&#34;): score must be a number from 1 to 6; trait:cohesion must "
            "be a number from 1 to 5") in text
    assert "Row 2" not in text
    with app.app_context():
        assert count(Submission, user_id=None) == 0 and count(Grade) == 0 and count(OutboxEvent) == 0


@pytest.mark.parametrize("data,message", [
    (b"", "The file is empty."),
    ("text,score\ncaf\xe9,3\n".encode("latin-1"), "not UTF-8 text (first bad byte on line 2)"),
    (b"essay,grade\nhello,3\n", "has no text or score column"),
    ("text,score\nhello,3\n".encode("utf-16-le"), "contains NUL bytes"),   # Excel "Unicode text", no BOM
    (b"text,score\nhel\x00lo,3\n", "contains NUL bytes (first on line 2)"),
    (b"text,score,trait:style\nhello,3,2\n", "traits this assignment does not have: trait:style"),
    (b"text,score,score\nhello,3,3\n", "repeats the column(s) score"),
    # "comments" for "comment": every comment would be lost while the import said it went well
    (b"text,score,Comments,notes\nhello,3,good\n",
     "has column(s) that Gradeloop does not import: Comments, notes. The columns it reads are text, score, "
     "comment, group, trait:cohesion."),
    (b"text,score,\nhello,3,\nagain,4,kept for later\n", "column 3 (first in row 3) has values but no name"),
    (b"text,score\nhello,3,extra\n", "Row 2 (line 2 of the file): 3 fields, but the header has 2"),
    (b"text,score\n\"unclosed,3\n", "not valid CSV"),
    (b"text,score\n\n", "has a header but no essays"),
])
def test_broken_csv_files(teacher, app, world, data, message):
    response = _upload(teacher, world, data)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    with app.app_context():
        assert count(Grade) == 0


def test_only_known_columns_are_read(teacher, app, world):
    """Names in any case; a trailing column with neither name nor values (spreadsheets write one)
    and the bookkeeping columns a course export adds are accepted, the latter stored nowhere."""
    from lti_app.coursework.csv_io import EXPORT_COLUMNS, EXPORT_ONLY, OPTIONAL, REQUIRED

    # A new export column must be either read or ignored on purpose, or exports stop importing.
    assert sorted(EXPORT_COLUMNS) == sorted(REQUIRED + OPTIONAL + EXPORT_ONLY)
    data = b"Text,SCORE,Comment,student,essay_id,score_max,\nAn essay.,4,Fine,Someone Else,999,100,\n"
    assert _upload(teacher, world, data).status_code == 303
    with app.app_context():
        grade = db.session.scalar(db.select(Grade))
        assert (grade.score, grade.comment, grade.score_max) == (4, "Fine", 6)


def test_a_thousands_separator_is_refused_not_read_as_a_decimal_comma(teacher, app, world):
    with app.app_context():
        db.session.get(Assignment, world.assignment_a).score_max = 1000
        db.session.commit()
    rows = [("Essay one.", "1,000", "", "", ""), ("Essay two.", "4,5", "", "", ""),
            ("Essay three.", "3,25", "", "", ""), ("Essay four.", "12,500", "", "3", "")]
    refused = _upload(teacher, world, _csv(rows))
    text = refused.get_data(as_text=True)
    assert refused.status_code == 400 and "Nothing was imported: 2 row(s) need fixing" in text
    assert ("Row 2 (essay starting &#34;Essay one.&#34;): score 1,000 may have a thousands separator: write 1000 "
            "without one, or 1.000 if the comma is a decimal point.") in text
    assert "Row 5 (essay starting &#34;Essay four.&#34;): score 12,500 may have a thousands separator" in text
    with app.app_context():
        assert count(Grade) == 0
    rows[0], rows[3] = ("Essay one.", "1000", "", "", ""), ("Essay four.", "12.5", "", "3", "")
    assert _upload(teacher, world, _csv(rows)).status_code == 303
    with app.app_context():
        assert sorted(db.session.scalars(db.select(Grade.score))) == [3.25, 4.5, 12.5, 1000]


def test_the_same_essay_with_two_grades_in_one_file_is_refused(teacher, app, world):
    assert _upload(teacher, world, _csv([("Essay about cars.", "4", "Good.", "3", "")])).status_code == 303
    rows = [("Essay about cars.", "4", "Good.", "3", ""),
            ("Essay about buses.", "2", "", "", ""),
            ("Essay about cars.  \n", "5", "Good.", "3", ""),        # the same essay once normalised
            ("Essay about buses.", "2", "Short.", "", "ell"),
            ("Essay about buses.", "2", "", "", "")]                  # a plain repeat of row 3: fine
    refused = _upload(teacher, world, _csv(rows))
    text = refused.get_data(as_text=True)
    assert refused.status_code == 400 and "Nothing was imported: 2 row(s) need fixing" in text
    assert ("Row 4 (essay starting &#34;Essay about cars.&#34;): the same essay as row 2 but with a different "
            "score. Delete one of the two rows or give them the same grade.") in text
    assert "Row 5 (essay starting &#34;Essay about buses.&#34;): the same essay as row 3 but with a different " \
           "comment and group." in text
    with app.app_context():
        assert count(Grade) == 1 and count(Submission, user_id=None) == 1
        assert db.session.scalar(db.select(Grade.score)) == 4


def test_import_semicolon_csv_and_missing_file(teacher, world):
    assert _upload(teacher, world, b"text;score;comment\nEssay, with comma;5;ok\n").status_code == 303
    missing = teacher.post(f"/coursework/a/{world.assignment_a}/import", data={"csrf_token": teacher.csrf})
    assert missing.status_code == 400 and "Choose a CSV file" in missing.get_data(as_text=True)


def test_export_round_trips_through_import(teacher, app, world):
    rows = [("=HYPERLINK(\"http://x\")", "5", "-careful", "4", "g1"), ("Plain essay.", "2", "", "", "")]
    assert _upload(teacher, world, _csv(rows)).status_code == 303
    export = teacher.get("/coursework/course/export.csv")
    assert export.status_code == 200 and export.mimetype == "text/csv"
    records = list(csv.DictReader(io.StringIO(export.get_data(as_text=True))))
    formula = next(r for r in records if "HYPERLINK" in r["text"])
    assert formula["text"].startswith("'=") and formula["comment"] == "'-careful"   # not run by spreadsheets
    assert formula["trait:cohesion"] == "4" and formula["group"] == "g1"
    assert any(r["student"] == "Student1 A" and r["status"] == "submitted" for r in records)
    # Times carry their UTC offset on every database (SQLite hands them back naive: read in a
    # spreadsheet as local time, they were hours off for a school outside UTC).
    moments = [r["submitted_at"] for r in records] + [r["graded_at"] for r in records if r["graded_at"]]
    assert moments and all(datetime.fromisoformat(m).utcoffset() == timedelta(0) for m in moments), moments
    again = io.StringIO()
    writer = csv.DictWriter(again, fieldnames=["text", "score", "comment", "trait:cohesion", "group"],
                            extrasaction="ignore")
    writer.writeheader()
    writer.writerows(r for r in records if r["grade_source"] == "import")
    # Re-imported into the same assignment, every essay matches what is there, quote marks removed:
    # nothing is added twice.
    back = _upload(teacher, world, again.getvalue().encode())
    assert back.status_code == 303
    assert "Imported 0 graded essays. 2 lines were already in this assignment" in \
        teacher.get(back.headers["Location"]).get_data(as_text=True)
    with app.app_context():
        texts = db.session.scalars(db.select(Submission.text).filter_by(user_id=None)).all()
        assert texts.count('=HYPERLINK("http://x")') == 1
        comments = db.session.scalars(db.select(Grade.comment)).all()
        assert comments.count("-careful") == 1
    assert export.get_data()[:3] == b"\xef\xbb\xbf"   # a UTF-8 BOM, or Excel shows "ZoÃ«"
    # The export's own file, its graded rows kept with every column: imported as it is.
    lines = list(csv.reader(io.StringIO(export.get_data(as_text=True), newline="")))
    whole = io.StringIO(newline="")
    csv.writer(whole, lineterminator="\r\n").writerows(
        [lines[0]] + [line for line in lines[1:] if line[lines[0].index("grade_source")] == "import"])
    assert lines[0][:2] == ["\ufeffassignment", "assignment_id"] and "trait:cohesion" in lines[0]
    as_is = _upload(teacher, world, whole.getvalue().encode("utf-8"))
    assert as_is.status_code == 303
    assert "Imported 0 graded essays. 2 lines were already in this assignment" in \
        teacher.get(as_is.headers["Location"]).get_data(as_text=True)


def test_uploading_a_file_again_or_corrected_adds_nothing_twice(teacher, app, world):
    rows = [("First essay about cars.", "4", "Good.", "3", ""), ("Second essay about buses.", "2", "", "", "")]
    assert _upload(teacher, world, _csv(rows)).status_code == 303
    assert _upload(teacher, world, _csv(rows)).status_code == 303              # the same file, twice
    corrected = [("First essay about cars.", "4,5", "Good; cite one source.", "3", ""), rows[1],
                 ("Third essay about trains.", "5", "", "", ""), ("Third essay about trains.", "5", "", "", "")]
    answer = _upload(teacher, world, _csv(corrected))
    notice = teacher.get(answer.headers["Location"]).get_data(as_text=True)
    assert ("Imported 1 graded essay. 1 already imported essay took the new score or comment from the file. "
            "2 lines were already in this assignment and left unchanged.") in notice
    assert "holds <strong>3</strong> imported essays" in notice
    with app.app_context():
        assert count(Submission, user_id=None) == 3
        first = db.session.scalar(db.select(Submission.id).filter_by(text="First essay about cars."))
        scores = db.session.scalars(db.select(Grade.score).filter_by(submission_id=first).order_by(Grade.id)).all()
        assert scores == [4, 4.5]   # the decimal comma is read; the earlier grade stays as history
        assert count(OutboxEvent, type="training.due") == 2   # the repeat upload queued no training


def test_teacher_removes_imported_essays_but_not_students(teacher, app, world):
    assert _upload(teacher, world, _csv([("Imported essay.", "4", "", "", "")])).status_code == 303
    url = f"/coursework/a/{world.assignment_a}/import/remove"
    refused = teacher.post(url, data={"csrf_token": teacher.csrf, "confirm": "yes"})
    assert "Nothing was removed" in teacher.get(refused.headers["Location"]).get_data(as_text=True)
    done = teacher.post(url, data={"csrf_token": teacher.csrf, "confirm": "DELETE"})
    assert "Removed 1 imported essay." in teacher.get(done.headers["Location"]).get_data(as_text=True)
    with app.app_context():
        assert count(Submission, user_id=None) == 0 and count(Grade) == 0
        assert count(Submission, assignment_id=world.assignment_a) == 1   # the student's essay stays
        # An erasure for the model: retrained even with few grades left, or retired (a "manual"
        # retrain would need the minimum and a better score, so the wrong file's model kept scoring).
        assert db.session.scalars(db.select(OutboxEvent.payload).filter_by(type="training.due")
                                  .order_by(OutboxEvent.id)).all()[-1]["payload"]["reason"] == "erasure"


def test_delete_course_data_needs_confirmation(teacher, app, world, tmp_path):
    model_dir = tmp_path / "data0" / "models" / "a1"
    model_dir.mkdir(parents=True)
    (model_dir / "weights.bin").write_bytes(b"x")
    with app.app_context():
        db.session.add(ModelVersion(assignment_id=world.assignment_a, version=1, approach="frozen-ridge",
                                    path=str(model_dir)))
        db.session.add(Grade(submission_id=world.essay_a, score=4, source=GradeSource.TEACHER, score_min=1, score_max=6))
        db.session.commit()
    page = teacher.get("/coursework/course/delete").get_data(as_text=True)
    assert "1 assignment and 1 essay" in page
    wrong = teacher.post("/coursework/course/delete", data={"csrf_token": teacher.csrf, "confirm": "delete"})
    assert wrong.status_code == 400 and "Type DELETE" in wrong.get_data(as_text=True)
    with app.app_context():
        assert count(Assignment) == 2
    done = teacher.post("/coursework/course/delete", data={"csrf_token": teacher.csrf, "confirm": "DELETE"})
    assert done.status_code == 303
    with app.app_context():
        assert count(Assignment, course_id=world.course_a) == 0 and count(Submission, assignment_id=world.assignment_a) == 0
        assert count(Grade) == 0 and count(ModelVersion) == 0
        assert count(Assignment, course_id=world.course_b) == 1 and count(Submission) == 1   # course B untouched
    assert not model_dir.exists()


def test_settings_page(teacher, app, world):
    url = f"/coursework/a/{world.assignment_a}/settings"
    page = teacher.get(url).get_data(as_text=True)
    assert 'value="review" checked' in page and "cohesion 1-5" in page
    bad = teacher.post(url, data={"csrf_token": teacher.csrf, "feedback_mode": "sometimes", "min_graded": "2",
                                  "retrain_every": "0", "confidence_threshold": "150"})
    text = bad.get_data(as_text=True)
    assert bad.status_code == 400 and text.count('class="field-error"') == 4
    for name in ("min_graded", "retrain_every", "confidence_threshold"):   # each error is tied to its field
        assert f'id="{name}" ' in text and f'aria-describedby="{name}-error"' in text and f'id="{name}-error"' in text
    assert "Enter a whole number from 15 (the fewest a model can learn from) to 100,000." in text
    assert "such as 60 for 60%" in text and "less than or equal to" not in text, "a sentence, not the validator's"
    good = teacher.post(url, data={"csrf_token": teacher.csrf, "feedback_mode": "auto", "min_graded": "40",
                                   "retrain_every": "10", "confidence_threshold": "0.8", "allow_resubmit": "on"})
    assert good.status_code == 303
    with app.app_context():
        assignment = db.session.get(Assignment, world.assignment_a)
        assert assignment.feedback_mode == FeedbackMode.AUTO_RELEASE and assignment.min_graded == 40
        assert assignment.retrain_every == 10 and assignment.confidence_threshold == 0.8
        assert assignment.allow_resubmit and not assignment.show_ai_label


def test_grading_form_validation(teacher, app, world):
    url = f"/coursework/a/{world.assignment_a}/essays/{world.essay_a}"
    bad = teacher.post(url, data={"csrf_token": teacher.csrf, "score": "7", "trait:cohesion": "0"})
    assert bad.status_code == 400 and "must be a number from 1 to 6" in bad.get_data(as_text=True)
    missing = teacher.post(url, data={"csrf_token": teacher.csrf, "score": ""})
    assert missing.status_code == 400 and "is missing" in missing.get_data(as_text=True)
    ok = teacher.post(url, data={"csrf_token": teacher.csrf, "score": "4.5", "comment": "Nice"}, follow_redirects=True)
    text = ok.get_data(as_text=True)
    # no AGS endpoint in this course: saved, and the LMS problem is said in words
    assert ok.status_code == 200 and "Grade saved in Gradeloop" not in text
    assert "did not give Gradeloop access to its gradebook" in text
    with app.app_context():
        grade = db.session.scalar(db.select(Grade))
        assert grade.score == 4.5 and grade.grader_id == world.teacher_a and grade.source == GradeSource.TEACHER
        # the worker's gradebook.sync events of such a course are skipped, not dead letters
        from lti_app.lms.gradebook import SKIPPED, process_sync

        assert process_sync({"grade_id": grade.id}) == SKIPPED
        assert process_sync({"submission_id": world.essay_a}) == SKIPPED
        assert "did not give Gradeloop access" in db.session.get(Grade, grade.id).post_error
    # The essay list says why instead of offering "Send to the LMS again", which could only fail.
    listing = teacher.get(f"/coursework/a/{world.assignment_a}").get_data(as_text=True)
    assert 'id="gradebook-off"' in listing and "Send to the LMS again</button>" not in listing


def test_deleting_follows_model_files_to_a_moved_data_dir(teacher, app, world, tmp_path):
    """Versions store absolute paths; after the operator moved the data dir, scoring finds them
    under the new one, and deleting the course's data must delete them there too."""
    data_dir = app.config["GRADELOOP_DATA_DIR"]
    moved = tmp_path / "data0" / "models" / f"assignment-{world.assignment_a}" / "v1"
    moved.mkdir(parents=True)
    (moved / "model.onnx").write_bytes(b"graph trained on the course's essays")
    old_place = f"/mnt/old-volume/models/assignment-{world.assignment_a}/v1"
    assert str(moved).startswith(str(data_dir))
    with app.app_context():
        db.session.add(ModelVersion(assignment_id=world.assignment_a, version=1, approach="frozen-ridge",
                                    path=old_place, onnx_path=old_place + "/model.onnx"))
        db.session.commit()
    done = teacher.post("/coursework/course/delete", data={"csrf_token": teacher.csrf, "confirm": "DELETE"})
    assert done.status_code == 303
    assert not moved.exists()


def test_editing_in_a_course_without_gradebook_access_says_nothing_of_a_column(teacher, client, world):
    """The course gave Gradeloop no gradebook service (AGS off): a new title or maximum has no LMS
    column to follow it, so the edit is simply saved, with no warning about a column."""
    url = f"/coursework/a/{world.assignment_a}/edit"
    saved = client.post(url, data={"csrf_token": teacher.csrf, "title": "Essay a, final", "prompt": "Discuss.",
                                   "score_min": "1", "score_max": "5", "traits": "cohesion 1-5"},
                        follow_redirects=True)
    page = saved.get_data(as_text=True)
    assert saved.status_code == 200 and "Assignment saved." in page and "gradebook column" not in page
    with client.application.app_context():
        assert db.session.get(Assignment, world.assignment_a).score_max == 5
