"""Uploading a CSV again after the teacher corrected some of its essays in Gradeloop: the file
updates only essays whose latest grade is still its own import; a grade given in Gradeloop since
(the teacher's on the grading page, an approved or edited AI grade) is kept and the summary says so.
Real case: this term's rows appended to last year's file, uploaded again."""
from lti_app.coursework.grading import save_grade
from lti_app.extensions import db
from lti_app.lms.gradebook import latest_grade
from lti_app.models import Assignment, GradeSource, OutboxEvent, Submission
from tests.coursework.helpers import count
from tests.coursework.test_csv_and_data import _csv, _upload, teacher  # noqa: F401 (fixture)

LAST_YEAR = [("Cars essay from last year.", "2", "ok", "", ""), ("Buses essay from last year.", "3", "ok", "", ""),
             ("Trains essay from last year.", "4", "ok", "", "")]


def _essay(text: str) -> int:
    return db.session.scalar(db.select(Submission.id).filter_by(text=text))


def _notice(client, answer) -> str:
    assert answer.status_code == 303
    return client.get(answer.headers["Location"]).get_data(as_text=True)


def _correct_in_gradeloop(client, app, world):
    """The teacher corrects the cars essay on its grading page; the buses essay gets an approved AI grade."""
    with app.app_context():
        cars, buses = _essay(LAST_YEAR[0][0]), _essay(LAST_YEAR[1][0])
    saved = client.post(f"/coursework/a/{world.assignment_a}/essays/{cars}",
                        data={"csrf_token": client.csrf, "score": "5", "comment": "Better than I thought."})
    assert saved.status_code == 303
    with app.app_context():
        assignment = db.session.get(Assignment, world.assignment_a)
        save_grade(assignment, db.session.get(Submission, buses), {"score": 1, "comment": "ai", "trait_scores": {}},
                   world.teacher_a, source=GradeSource.AI_APPROVED)
        db.session.commit()
    return cars, buses


def test_reupload_keeps_grades_given_in_gradeloop_and_updates_only_imported_ones(teacher, app, world):
    _upload(teacher, world, _csv(LAST_YEAR))
    cars, buses = _correct_in_gradeloop(teacher, app, world)
    # Last year's file with its trains line corrected and the cars line's group changed, plus a new row.
    this_year = [(*LAST_YEAR[0][:4], "g2"), LAST_YEAR[1], ("Trains essay from last year.", "3", "ok", "", ""),
                 ("Bikes essay from this term.", "5", "", "", "")]
    notice = _notice(teacher, _upload(teacher, world, _csv(this_year)))
    assert ("Imported 1 graded essay. 1 already imported essay took the new score or comment from the file. "
            "2 essays kept the grade given in Gradeloop after the last import; edit them on their grading page."
            ) in notice
    assert "left unchanged" not in notice
    with app.app_context():
        kept_cars, kept_buses = latest_grade(cars), latest_grade(buses)
        assert (kept_cars.score, kept_cars.source) == (5, GradeSource.TEACHER)
        assert (kept_buses.score, kept_buses.source) == (1, GradeSource.AI_APPROVED)
        assert db.session.get(Submission, cars).group_label is None   # nothing of a kept row is stored
        trains = latest_grade(_essay(LAST_YEAR[2][0]))
        assert (trains.score, trains.source) == (3, GradeSource.IMPORT)
        assert count(Submission, user_id=None) == 4
        assert count(OutboxEvent, type="training.due") == 2


def test_reupload_with_only_kept_rows_changes_nothing(teacher, app, world):
    _upload(teacher, world, _csv(LAST_YEAR))
    _correct_in_gradeloop(teacher, app, world)
    notice = _notice(teacher, _upload(teacher, world, _csv(LAST_YEAR + [LAST_YEAR[0]])))   # a repeated line too
    assert ("Imported 0 graded essays. 2 essays kept the grade given in Gradeloop after the last import; "
            "edit them on their grading page. 1 line was already in this assignment and left unchanged.") in notice
    with app.app_context():
        assert count(OutboxEvent, type="training.due") == 1   # the first upload's only
