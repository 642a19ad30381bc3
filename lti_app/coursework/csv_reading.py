"""Reading an uploaded CSV into rows that an error can name: decoding, the delimiter, each row
numbered as a spreadsheet shows it with the file line it starts on, and a broken file in words.
What the rows mean is `csv_io`."""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field

# Where the csv module ends a line (it reads with newline=""): CRLF, LF, or CR alone.
LINE_BREAK = re.compile(r"\r\n|\r|\n")


@dataclass
class CsvProblem(Exception):
    """Why the file cannot be imported: one general message or per-row messages."""

    message: str
    lines: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return self.message


@dataclass
class Record:
    row: int          # as a spreadsheet numbers it: the header is row 1, a blank line is a row too
    line: int         # the file line it starts on, for a text editor
    cells: list[str]


def decode(data: bytes) -> str:
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


def delimiter_of(text: str) -> str:
    """From the header line only: essays are full of commas and semicolons, headers are not."""
    first = LINE_BREAK.split(text, 1)[0]
    return max((",", ";", "\t"), key=first.count)


def _not_csv(exc: csv.Error, record: Record, line: int, delimiter: str) -> CsvProblem:
    """`exc` in words. A quote left open makes the reader take the following lines as part of one
    value until the field limit or the end of the file, so its own line number says nothing: the
    row where the quote is, `record` (its cells unread), does."""
    reason = str(exc)
    where = f"row {record.row} (line {record.line} of the file)"
    if reason.startswith("field larger than field limit") or reason == "unexpected end of data":
        return CsvProblem(f"The file is not valid CSV: {where} has a quote (\") that is never closed, so the "
                          "lines after it were read as part of one value. Add the closing quote or delete the "
                          "stray one, then upload the file again.")
    if reason.endswith("expected after '\"'"):
        separator = {",": "comma", ";": "semicolon", "\t": "tab"}[delimiter]
        later = f" (line {line})" if line != record.line else ""   # a quoted value may span lines
        return CsvProblem(f"The file is not valid CSV: in {where} a value in quotes is followed by more text"
                          f"{later} before the next {separator}. Inside a quoted value, write each quote "
                          "twice (\"\"), then upload the file again.")
    return CsvProblem(f"The file is not valid CSV near {where}: {reason}.")


def read_records(text: str, delimiter: str, max_rows: int) -> tuple[list[str], list[Record]]:
    """The header and every row with a value. All rows are read before any is checked: whether a
    `trait:` column is empty in every row decides how the header is read."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    record = Record(1, 1, [])   # the row being read, for an error
    records = []
    try:
        header = next(reader, [])
        while True:
            record = Record(record.row + 1, reader.line_num + 1, [])
            record.cells = next(reader, None)
            if record.cells is None:
                return header, records
            if any(cell.strip() for cell in record.cells):
                records.append(record)
            if len(records) > max_rows:
                raise CsvProblem(f"The file has more than {max_rows:,} essays; split it into smaller files.")
    except csv.Error as exc:
        raise _not_csv(exc, record, reader.line_num, delimiter) from exc
