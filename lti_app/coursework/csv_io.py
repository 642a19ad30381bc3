"""CSV in and out: importing previously graded essays (all rows valid or nothing is stored) and
exporting a course's essays and grades.

Import columns: `text`, `score`, optional `comment`, `group`, and `trait:<name>` per rubric trait;
the export's own bookkeeping columns are ignored, any other column is refused (a misspelt
`comments` would otherwise lose every comment without a word). Two lines with the same essay but
a different grade are refused too: the file does not say which one the teacher meant.
Line numbers in errors are the file's own line numbers (a quoted essay may span many lines; old
Mac files end lines with CR alone), and a quote that is never closed is reported on the line where
its row starts, not where the reader gave up.
Exported cells that a spreadsheet would run as a formula get a leading apostrophe, which the
import removes again, so an export's text and comments come back unchanged; the export starts
with a UTF-8 BOM for Excel. Matching re-imported rows to stored essays is `imports`.
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field

from marshmallow import ValidationError

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
MAX_ERRORS_SHOWN = 50
# Where the csv module ends a line (it reads with newline=""): CRLF, LF, or CR alone.
LINE_BREAK = re.compile(r"\r\n|\r|\n")


@dataclass
class CsvProblem(Exception):
    """Why the file cannot be imported: one general message or per-line messages."""

    message: str
    lines: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return self.message


def _decode(data: bytes) -> str:
    if not data.strip():
        raise CsvProblem("The file is empty.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        before = data[:exc.start].decode("utf-8")
        line = _line_at(before, len(before))
        raise CsvProblem(f"The file is not UTF-8 text (first bad byte on line {line}). In your spreadsheet "
                         "choose \"CSV UTF-8\" when saving, then upload it again.") from exc
    if "\x00" in text:   # UTF-16 without a BOM decodes as UTF-8 full of NULs; PostgreSQL refuses NUL
        line = _line_at(text, text.index("\x00"))
        raise CsvProblem(f"The file contains NUL bytes (first on line {line}): it is not CSV UTF-8 text. In your "
                         "spreadsheet choose \"CSV UTF-8\" when saving, then upload it again.")
    return text


def _line_at(text: str, position: int) -> int:
    """The line number of `text[position]`, counting line breaks as the csv module does."""
    return len(LINE_BREAK.findall(text, 0, position)) + 1


def _delimiter(text: str) -> str:
    """From the header line only: essays are full of commas and semicolons, headers are not."""
    first = LINE_BREAK.split(text, 1)[0]
    return max((",", ";", "\t"), key=first.count)


def _not_csv(exc: csv.Error, row_start: int, line: int, delimiter: str) -> CsvProblem:
    """`exc` in words. A quote left open makes the reader take the following lines as part of one
    value until the field limit or the end of the file, so its own line number says nothing: the
    row where the quote is, `row_start`, does."""
    reason = str(exc)
    if reason.startswith("field larger than field limit") or reason == "unexpected end of data":
        return CsvProblem(f"The file is not valid CSV: the row that starts on line {row_start} has a quote (\") "
                          "that is never closed, so the lines after it were read as part of one value. Add the "
                          "closing quote or delete the stray one, then upload the file again.")
    if reason.endswith("expected after '\"'"):
        separator = {",": "comma", ";": "semicolon", "\t": "tab"}[delimiter]
        return CsvProblem(f"The file is not valid CSV: on line {line} a value in quotes is followed by more text "
                          f"before the next {separator}. Inside a quoted value, write each quote twice (\"\"), "
                          "then upload the file again.")
    return CsvProblem(f"The file is not valid CSV near line {line}: {reason}.")


def unescape(value: str) -> str:
    if len(value) > 1 and value[0] == "'" and value[1] in FORMULA_START:
        return value[1:]
    return value


def escape(value):
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def _header(raw: list[str], assignment) -> list[str | None]:
    """Column keys for the schema: lower-case names, `trait:<name>` spelt as the assignment does;
    None for an export column that is ignored, "" for a column without a name."""
    traits = {f"trait:{t['name']}".lower(): f"trait:{t['name']}" for t in assignment.traits or []}
    lowered = [h.strip().lower() for h in raw]
    if not any(lowered):
        raise CsvProblem("The first line must be a header naming the columns: text, score "
                         "(and optionally comment, group, trait:<name>).")
    missing = [c for c in REQUIRED if c not in lowered]
    if missing:
        raise CsvProblem(f"The header (line 1) has no {' or '.join(missing)} column. Found: "
                         f"{', '.join(h.strip() or '(blank)' for h in raw)}.")
    unknown = [h for h in lowered if h.startswith("trait:") and h not in traits]
    if unknown:
        known = ", ".join(sorted(traits.values())) or "none"
        raise CsvProblem(f"The header names traits this assignment does not have: {', '.join(unknown)} "
                         f"(its traits: {known}).")
    accepted = [*REQUIRED, *OPTIONAL, *traits.values()]
    strange = [name.strip() for name, h in zip(raw, lowered)
               if h and h not in REQUIRED + OPTIONAL + EXPORT_ONLY and h not in traits]
    if strange:
        raise CsvProblem(f"The header (line 1) has column(s) that Gradeloop does not import: {', '.join(strange)}. "
                         f"The columns it reads are {', '.join(accepted)}. Rename or delete the other column(s), "
                         "then upload the file again.")
    duplicates = {h for h in lowered if h and lowered.count(h) > 1}
    if duplicates:
        raise CsvProblem(f"The header repeats the column(s) {', '.join(sorted(duplicates))}.")
    return [None if h in EXPORT_ONLY else traits.get(h, h) for h in lowered]


def _differences(row: dict, other: dict) -> list[str]:
    """What two rows of the same essay grade differently (what `imports` would store as a new grade)."""
    found = [name for name in ("score", "comment") if row[name] != other[name]]
    if row["trait_scores"] != other["trait_scores"]:
        found.append("trait scores")
    if (row.get("group") or None) != (other.get("group") or None):
        found.append("group")
    return found


def parse_import(data: bytes, assignment, *, max_chars: int, max_rows: int = 20_000) -> list[dict]:
    """Validated rows ({text, score, comment, trait_scores, group}) or `CsvProblem` listing every bad line."""
    text = _decode(data)
    delimiter = _delimiter(text)
    # The csv module refuses any value over 131,072 characters by default (a process-wide limit),
    # which a deployment allowing longer essays would see as "a quote never closed". Values up to a
    # few times the essay limit get through to the schema, which says "too long" in words.
    csv.field_size_limit(max(csv.field_size_limit(), 4 * max_chars))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    start = 1   # the line the next row starts on
    try:
        header = _header(next(reader, []), assignment)
        schema = import_row_schema(assignment, max_chars)
        rows, problems = [], []
        first_seen: dict[str, tuple[int, dict]] = {}   # essay text -> (line, row) where it came first
        unnamed_with_data: dict[int, int] = {}          # column number -> first line with a value there
        start = reader.line_num + 1
        for raw in reader:
            line = start
            start = reader.line_num + 1
            if not any(cell.strip() for cell in raw):
                continue
            if len(raw) != len(header):
                problems.append(f"Line {line}: {len(raw)} fields, but the header has {len(header)} "
                                "(a missing or extra comma, or an unclosed quote?).")
                continue
            for number, (name, cell) in enumerate(zip(header, raw), start=1):
                if name == "" and cell.strip():
                    unnamed_with_data.setdefault(number, line)
            values = {name: unescape(cell) for name, cell in zip(header, raw) if name}
            try:
                row = schema.load(values)
            except ValidationError as exc:
                details = "; ".join(f"{name} {' '.join(msgs) if isinstance(msgs, list) else msgs}"
                                    for name, msgs in sorted(exc.messages.items()))
                problems.append(f"Line {line}: {details}")
            else:
                # The same essay twice with one grade is a harmless repeat (`imports` leaves it);
                # with two different grades, storing either one would be a guess.
                earlier = first_seen.setdefault(normalise(row["text"]), (line, row))
                differences = _differences(row, earlier[1]) if earlier[0] != line else []
                if differences:
                    what = ", ".join(differences[:-1]) + " and " + differences[-1] if differences[1:] \
                        else differences[0]
                    problems.append(f"Line {line}: the same essay as line {earlier[0]} but with a different "
                                    f"{what}. Delete one of the two lines or give them the same grade.")
                else:
                    rows.append(row)
            if len(rows) + len(problems) > max_rows:
                raise CsvProblem(f"The file has more than {max_rows:,} essays; split it into smaller files.")
    except csv.Error as exc:
        raise _not_csv(exc, start, reader.line_num, delimiter) from exc
    if unnamed_with_data:
        where = ", ".join(f"column {number} (first on line {line})" for number, line in unnamed_with_data.items())
        one = len(unnamed_with_data) == 1
        raise CsvProblem(f"Nothing was imported: {where} {'has' if one else 'have'} values but no name in the "
                         "header (line 1), so Gradeloop cannot tell what they are. Give "
                         f"{'the column a name' if one else 'each column a name'} it reads (text, score, comment, "
                         f"group, trait:<name>) or delete {'it' if one else 'them'}, then upload the file again.")
    if problems:
        shown = problems[:MAX_ERRORS_SHOWN]
        more = len(problems) - len(shown)
        raise CsvProblem(f"Nothing was imported: {len(problems)} line(s) need fixing"
                         + (f" (first {len(shown)} shown)." if more else "."), shown)
    if not rows:
        raise CsvProblem("The file has a header but no essays.")
    return rows


EXPORT_COLUMNS = ["assignment", "assignment_id", "essay_id", "student", "student_email", "submitted_at",
                  "status", "group", "text", "score", "score_min", "score_max", "comment", "grade_source",
                  "graded_at", "in_lms"]


def write_export(records, trait_names: list[str]) -> str:
    """CSV text of `records` (dicts keyed by EXPORT_COLUMNS plus `trait:<name>`)."""
    out = io.StringIO()
    out.write("\ufeff")   # Excel reads UTF-8 only after a BOM (else "Zoë" shows as "ZoÃ«"); the import skips it
    columns = EXPORT_COLUMNS + [f"trait:{name}" for name in trait_names]
    writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore", lineterminator="\r\n")
    writer.writeheader()
    for record in records:
        writer.writerow({k: escape(v) for k, v in record.items()})
    return out.getvalue()
