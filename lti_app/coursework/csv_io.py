"""CSV in and out: importing previously graded essays (all rows valid or nothing is stored) and
exporting a course's essays and grades.

Import columns: `text`, `score`, optional `comment`, `group`, and `trait:<name>` per rubric trait.
Line numbers in errors are the file's own line numbers (a quoted essay may span many lines).
Exported cells that a spreadsheet would run as a formula get a leading apostrophe, which the
import removes again, so an export's text and comments come back unchanged; the export starts
with a UTF-8 BOM for Excel. Matching re-imported rows to stored essays is `imports`.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from marshmallow import ValidationError

from lti_app.coursework.schemas import import_row_schema

REQUIRED = ("text", "score")
OPTIONAL = ("comment", "group")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
MAX_ERRORS_SHOWN = 50


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
        line = data[:exc.start].count(b"\n") + 1
        raise CsvProblem(f"The file is not UTF-8 text (first bad byte on line {line}). In your spreadsheet "
                         "choose \"CSV UTF-8\" when saving, then upload it again.") from exc
    if "\x00" in text:   # UTF-16 without a BOM decodes as UTF-8 full of NULs; PostgreSQL refuses NUL
        line = text[:text.index("\x00")].count("\n") + 1
        raise CsvProblem(f"The file contains NUL bytes (first on line {line}): it is not CSV UTF-8 text. In your "
                         "spreadsheet choose \"CSV UTF-8\" when saving, then upload it again.")
    return text


def _delimiter(text: str) -> str:
    """From the header line only: essays are full of commas and semicolons, headers are not."""
    first = text.split("\n", 1)[0]
    return max((",", ";", "\t"), key=first.count)


def unescape(value: str) -> str:
    if len(value) > 1 and value[0] == "'" and value[1] in FORMULA_START:
        return value[1:]
    return value


def escape(value):
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def _header(raw: list[str], assignment) -> list[str]:
    """Column keys for the schema: lower-case names, `trait:<name>` spelt as the assignment does."""
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
    duplicates = {h for h in lowered if h and lowered.count(h) > 1}
    if duplicates:
        raise CsvProblem(f"The header repeats the column(s) {', '.join(sorted(duplicates))}.")
    return [traits.get(h, h) for h in lowered]


def parse_import(data: bytes, assignment, *, max_chars: int, max_rows: int = 20_000) -> list[dict]:
    """Validated rows ({text, score, comment, trait_scores, group}) or `CsvProblem` listing every bad line."""
    text = _decode(data)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text), strict=True)
    try:
        header = _header(next(reader, []), assignment)
        schema = import_row_schema(assignment, max_chars)
        rows, problems = [], []
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
            values = {name: unescape(cell) for name, cell in zip(header, raw) if name}
            try:
                rows.append(schema.load(values))
            except ValidationError as exc:
                details = "; ".join(f"{name} {' '.join(msgs) if isinstance(msgs, list) else msgs}"
                                    for name, msgs in sorted(exc.messages.items()))
                problems.append(f"Line {line}: {details}")
            if len(rows) + len(problems) > max_rows:
                raise CsvProblem(f"The file has more than {max_rows:,} essays; split it into smaller files.")
    except csv.Error as exc:
        raise CsvProblem(f"The file is not valid CSV near line {reader.line_num}: {exc}.") from exc
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
