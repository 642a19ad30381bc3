"""CSV in and out: importing previously graded essays (all rows valid or nothing is stored) and
exporting a course's essays and grades.

Import columns: `text`, `score`, optional `comment`, `group`, and `trait:<name>` per rubric trait;
the export's own bookkeeping columns are ignored, any other column is refused (a misspelt
`comments` would otherwise lose every comment without a word). Two rows with the same essay but
a different grade are refused too: the file does not say which one the teacher meant.
A course export imports once it holds one assignment's rows: a file with several assignments'
essays is refused (`_one_assignment`), rows without any grade (essays not graded yet) are
skipped and counted, and `trait:` columns empty in every row (other assignments' traits) are
ignored. Errors name the row a spreadsheet shows (the header is row 1) and the essay's start: a
quoted essay spans many lines of the file, so a text-file line number cannot be found in Excel.
Only a broken file (an unclosed quote, a row with too many fields) also gets the file's line
(old Mac files end lines with CR alone), where its row starts, not where the reader gave up.
Exported values that a spreadsheet would run as a formula get an apostrophe before the formula,
which the import removes again, so an export's text and comments come back unchanged (`escape`);
the export starts with a UTF-8 BOM for Excel. Reading the file's rows is `csv_reading`; matching
re-imported rows to stored essays is `imports`. The export is written as it is read, in pieces
(`write_export`), for the web page to stream.
"""
from __future__ import annotations

import csv
import io
import re
from collections import Counter
from collections.abc import Iterator

from marshmallow import ValidationError

from lti_app.coursework.csv_reading import CsvProblem, Record, decode, delimiter_of, read_records
from lti_app.coursework.essay_text import normalise
from lti_app.coursework.schemas import import_row_schema

REQUIRED = ("text", "score")
OPTIONAL = ("comment", "group")
# What a course export writes besides the columns above, named one by one so that an export can
# be imported again as it is while a new or misspelt column is still refused. Nothing in them is
# stored: the essay is matched by its text, the grade comes from `score` on today's scale.
EXPORT_ONLY = ("assignment", "assignment_id", "essay_id", "student", "student_email", "submitted_at", "status",
               "score_min", "score_max", "grade_source", "graded_at", "in_lms")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Where a spreadsheet may begin a cell inside one value: at its start, after a ';' or a tab, and
# after a line break. Excel splits a double-clicked .csv on the system's list separator, ';' in
# most of continental Europe, and there a quote not at the start of a ';' cell is text, so a line
# break inside an essay starts a new row too. Quotes before the formula are looked through (Excel
# drops a cell's opening quote pair), and so are apostrophes: a text that already has one there
# gets one more, so the import can remove exactly one and give back every text as it was.
_CELL_START = r"(?:^|(?<=[;\t\r\n]))"
_FORMULA_AHEAD = "(?=['\"]*[" + re.escape("".join(FORMULA_START)) + "])"
_FORMULA = re.compile(_CELL_START + _FORMULA_AHEAD)
_ESCAPED = re.compile(_CELL_START + "'" + _FORMULA_AHEAD)
MAX_ERRORS_SHOWN = 50
ESSAY_START = 40   # characters of an essay quoted in an error, enough to find it with Ctrl+F


class ImportRows(list):
    """The validated rows, plus the spreadsheet row numbers of the essays skipped as not graded
    (`imports` names them in its summary: the teacher sees what was left out, and why)."""

    def __init__(self, rows=(), unscored: list[int] | None = None):
        super().__init__(rows)
        self.unscored = unscored or []


def unescape(value: str) -> str:
    """A value as it was before `escape`: one apostrophe goes wherever `escape` puts one. A text
    typed with an apostrophe there (a line starting '- in a file made by hand) loses it; Excel
    already drops a cell's leading one when it saves."""
    return _ESCAPED.sub("", value)


def escape(value):
    """`value` with an apostrophe wherever a spreadsheet could read the rest as a formula (see
    `_CELL_START`): the cell shows text, not a link to an attacker's site or a command."""
    if isinstance(value, str):
        return _FORMULA.sub("'", value)
    return value


def _header(raw: list[str], assignment, filled: set[int]) -> list[str | None]:
    """Column keys for the schema: lower-case names, `trait:<name>` spelt as the assignment does;
    None for an ignored column, "" for a column without a name. `filled`: the numbers (from 0)
    of the columns with a value in some row."""
    traits = {f"trait:{t['name']}".lower(): f"trait:{t['name']}" for t in assignment.traits or []}
    lowered = [h.strip().lower() for h in raw]
    if not any(lowered):
        raise CsvProblem("The first line must be a header naming the columns: text, score "
                         "(and optionally comment, group, trait:<name>).")
    missing = [c for c in REQUIRED if c not in lowered]
    if missing:
        raise CsvProblem(f"The header (line 1) has no {' or '.join(missing)} column. Found: "
                         f"{', '.join(h.strip() or '(blank)' for h in raw)}.")
    # A trait this assignment lacks is refused while its column holds scores: they would be lost
    # without a word (a trait renamed since, or a file meant for another assignment). Empty, it is
    # another assignment's column in a course export, and there is nothing to lose.
    foreign = [number for number, h in enumerate(lowered) if h.startswith("trait:") and h not in traits]
    unknown = [raw[number].strip() for number in foreign if number in filled]
    if unknown:
        known = ", ".join(sorted(traits.values())) or "none"
        raise CsvProblem(f"The header names traits this assignment does not have: {', '.join(unknown)} "
                         f"(its traits: {known}).")
    accepted = [*REQUIRED, *OPTIONAL, *traits.values()]
    strange = [name.strip() for name, h in zip(raw, lowered)
               if h and h not in REQUIRED + OPTIONAL + EXPORT_ONLY and h not in traits and not h.startswith("trait:")]
    if strange:
        raise CsvProblem(f"The header (line 1) has column(s) that Gradeloop does not import: {', '.join(strange)}. "
                         f"The columns it reads are {', '.join(accepted)}. Rename or delete the other column(s), "
                         "then upload the file again.")
    # Counted once: `lowered.count` for each column took minutes on a header of 200,000 columns.
    duplicates = {h for h, n in Counter(lowered).items() if h and n > 1}
    if duplicates:
        raise CsvProblem(f"The header repeats the column(s) {', '.join(sorted(duplicates))}.")
    ignored = set(foreign)   # a set: `in` the list for every column was quadratic too
    return [None if h in EXPORT_ONLY or number in ignored else traits.get(h, h) for number, h in enumerate(lowered)]


def _cut_short(records: list[Record]) -> None:
    """Refuse an export whose download broke off: its last row says so (`INCOMPLETE_ROW`), and
    without this it read as a second assignment's row ("essays of 2 assignments")."""
    if records and records[-1].cells and records[-1].cells[0].startswith(INCOMPLETE_MARK):
        raise CsvProblem("This file is a course export that was cut short: Gradeloop could not read all of the "
                         "course's essays when it was downloaded, so essays are missing from it. Download the "
                         "export again and import that file.")


def _one_assignment(raw: list[str], records: list[Record]) -> None:
    """Refuse a course export holding several assignments' essays. Another prompt's grades would
    teach this assignment's model the wrong task, and which assignment the teacher means cannot be
    read from the file: a new term's course has other ids, and titles change. The teacher filters."""
    lowered = [h.strip().lower() for h in raw]
    # Each column found once: looked up in the header for every row, a header of a million
    # columns over thousands of short rows kept the web process busy for minutes.
    columns = {name: lowered.index(name) if name in lowered else None for name in ("assignment_id", "assignment")}

    def cell(record: Record, name: str) -> str:
        column = columns[name]
        return unescape(record.cells[column].strip()) if column is not None and column < len(record.cells) else ""

    # Each column on its own: a row typed by hand with the title but no id is the same assignment.
    # Ids first: two assignments may share a title. A row with neither says nothing about it.
    for name in ("assignment_id", "assignment"):
        found: dict[str, int] = {}
        titles: dict[str, str] = {}
        for record in records:
            if value := cell(record, name):
                found[value] = found.get(value, 0) + 1
                titles.setdefault(value, cell(record, "assignment"))
        if len(found) > 1:
            break
    else:
        return
    named = "; ".join((f'"{titles[v]}", id {v}' if name == "assignment_id" and titles[v] else
                       f"id {v}" if name == "assignment_id" else f'"{v}"') + f": {n} row{'s' if n != 1 else ''}"
                      for v, n in found.items())
    raise CsvProblem(f"Nothing was imported: the file holds essays of {len(found)} assignments ({named}). "
                     "Another assignment's essays would teach this assignment's model the wrong task: "
                     "keep the rows of one assignment (filter the assignment column in your spreadsheet "
                     "and save the result), then upload the file again.")


def _where(record: Record, text: str) -> str:
    """'Row 5 (essay starting "Dear Principal, I think…")': the essay's start finds the row with
    Ctrl+F once the sheet was sorted or filtered, and confirms it is the one meant."""
    words = " ".join(normalise(text).split())   # an "essay" of zero-width characters starts with nothing
    if not words:
        return f"Row {record.row}"
    if len(words) > ESSAY_START:
        words = words[:ESSAY_START + 1].rsplit(" ", 1)[0] + "…"   # whole words only
    return f'Row {record.row} (essay starting "{words}")'


def _not_graded(values: dict) -> bool:
    """No score, comment nor trait score: an essay not graded yet, as a course export holds them.
    A comment or trait score without the score is a grade missing its score: an error."""
    return not any(value.strip() for name, value in values.items()
                   if name in ("score", "comment") or name.startswith("trait:"))


def _differences(row: dict, other: dict) -> list[str]:
    """What two rows of the same essay grade differently (what `imports` would store as a new grade)."""
    found = [name for name in ("score", "comment") if row[name] != other[name]]
    if row["trait_scores"] != other["trait_scores"]:
        found.append("trait scores")
    if (row.get("group") or None) != (other.get("group") or None):
        found.append("group")
    return found


def _in_words(names: list[str]) -> str:
    return ", ".join(names[:-1]) + " and " + names[-1] if names[1:] else names[0]


def parse_import(data: bytes, assignment, *, max_chars: int, max_rows: int = 20_000) -> ImportRows:
    """Validated rows ({text, score, comment, trait_scores, group}) or `CsvProblem` listing every bad row."""
    text = decode(data)
    delimiter = delimiter_of(text)
    # The csv module refuses any value over 131,072 characters by default (a process-wide limit),
    # which a deployment allowing longer essays would see as "a quote never closed". Values up to a
    # few times the essay limit get through to the schema, which says "too long" in words.
    csv.field_size_limit(max(csv.field_size_limit(), 4 * max_chars))
    raw_header, records = read_records(text, delimiter, max_rows)
    _cut_short(records)
    _one_assignment(raw_header, records)   # first: the other assignments' traits follow from it
    header = _header(raw_header, assignment,
                     {number for r in records for number, cell in enumerate(r.cells) if cell.strip()})
    schema = import_row_schema(assignment, max_chars)
    rows, problems = ImportRows(), []
    first_seen: dict[str, tuple[int, dict]] = {}   # essay text -> (row number, row) where it came first
    unnamed_with_data: dict[int, int] = {}          # column number -> first row with a value there
    for record in records:
        if len(record.cells) != len(header):
            problems.append(f"Row {record.row} (line {record.line} of the file): {len(record.cells)} fields, but "
                            f"the header has {len(header)} (a missing or extra comma, or an unclosed quote?).")
            continue
        for number, (name, cell) in enumerate(zip(header, record.cells), start=1):
            if name == "" and cell.strip():
                unnamed_with_data.setdefault(number, record.row)
        values = {name: unescape(cell) for name, cell in zip(header, record.cells) if name}
        if _not_graded(values):
            rows.unscored.append(record.row)
            continue
        try:
            row = schema.load(values)
        except ValidationError as exc:
            details = "; ".join(f"{name} {' '.join(msgs) if isinstance(msgs, list) else msgs}"
                                for name, msgs in sorted(exc.messages.items()))
            problems.append(f"{_where(record, values['text'])}: {details}")
            continue
        # The same essay twice with one grade is a harmless repeat (`imports` leaves it);
        # with two different grades, storing either one would be a guess.
        earlier = first_seen.setdefault(normalise(row["text"]), (record.row, row))
        differences = _differences(row, earlier[1]) if earlier[0] != record.row else []
        if differences:
            problems.append(f"{_where(record, values['text'])}: the same essay as row {earlier[0]} but with a "
                            f"different {_in_words(differences)}. Delete one of the two rows or give them the "
                            "same grade.")
        else:
            rows.append(row)
    if unnamed_with_data:
        where = ", ".join(f"column {number} (first in row {row})" for number, row in unnamed_with_data.items())
        one = len(unnamed_with_data) == 1
        raise CsvProblem(f"Nothing was imported: {where} {'has' if one else 'have'} values but no name in the "
                         "header (row 1), so Gradeloop cannot tell what they are. Give "
                         f"{'the column a name' if one else 'each column a name'} it reads (text, score, comment, "
                         f"group, trait:<name>) or delete {'it' if one else 'them'}, then upload the file again.")
    if problems:
        shown = problems[:MAX_ERRORS_SHOWN]
        more = len(problems) - len(shown)
        raise CsvProblem(f"Nothing was imported: {len(problems)} row(s) need fixing"
                         + (f" (first {len(shown)} shown)." if more else "."), shown)
    if not rows and rows.unscored:
        raise CsvProblem(f"Nothing was imported: none of the {len(rows.unscored)} essays in the file has a score. "
                         "Essays not graded yet are not training data; fill in the score column.")
    if not rows:
        raise CsvProblem("The file has a header but no essays.")
    return rows


EXPORT_COLUMNS = ["assignment", "assignment_id", "essay_id", "student", "student_email", "submitted_at",
                  "status", "group", "text", "score", "score_min", "score_max", "comment", "grade_source",
                  "graded_at", "in_lms"]


CHUNK_CHARS = 256 * 1024   # what `write_export` gathers before handing a piece of the file on
INCOMPLETE_MARK = "INCOMPLETE: "
# The last row of an export that broke off: where a spreadsheet shows it, in its first column.
INCOMPLETE_ROW = (f'"{INCOMPLETE_MARK}Gradeloop could not read the rest of the course\'s essays. '
                  'Download the export again."\r\n')


def write_export(records, trait_names: list[str]) -> Iterator[str]:
    """CSV text of `records` (dicts keyed by EXPORT_COLUMNS plus `trait:<name>`), in pieces of
    about CHUNK_CHARS as the records come: a course's essays are never all in memory at once."""
    out = io.StringIO()
    out.write("\ufeff")   # Excel reads UTF-8 only after a BOM (else "Zoë" shows as "ZoÃ«"); the import skips it
    columns = EXPORT_COLUMNS + [f"trait:{name}" for name in trait_names]
    writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore", lineterminator="\r\n")
    writer.writeheader()
    for record in records:
        writer.writerow({k: escape(v) for k, v in record.items()})
        if out.tell() >= CHUNK_CHARS:
            yield _taken(out)
    yield _taken(out)


def _taken(out: io.StringIO) -> str:
    """What `out` holds, which it then forgets."""
    text = out.getvalue()
    out.seek(0)
    out.truncate()
    return text
