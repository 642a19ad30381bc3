"""Turn an uploaded essay file into plain text: `.txt`/`.md` (UTF-8, or UTF-16 with a BOM) and
`.docx` (its main document XML, streamed: content controls and tracked insertions included,
deletions left out). Anything else, or a file we cannot read, is refused with a sentence that says
what to do; nothing is stored on error. A .docx is read only as far as an essay within the
character limit can need: a small upload that inflates to a huge document is refused after
that much, not after parsing all of it.

Also the cleaning of an upload's file name for storage (`clean_filename`). The text rules every
essay path shares are in `essay_text`."""
from __future__ import annotations

import io
import posixpath
import unicodedata
import zipfile
from pathlib import PurePath
from xml.parsers import expat

from lti_app.coursework.essay_text import normalise

TEXT_TYPES = (".txt", ".md")
DOCX_TYPES = (".docx",)
ACCEPTED = TEXT_TYPES + DOCX_TYPES
ACCEPT_ATTR = ",".join(ACCEPTED)
# Word XML per character of essay text, with room to spare: plain paragraphs measure 8 bytes per
# character, and every word in its own formatted run (font, size, colour, bold, italic, underline,
# highlight) 41; Word adds revision ids and language tags to each run. A document.xml larger than
# this needs is refused unread (a 66 KB upload inflating to 10 MB took 3.6 s and 233 MB to parse).
DOCX_XML_BYTES_PER_CHAR = 100
DOCX_XML_OVERHEAD = 1_000_000     # section properties, styles of a school template, inline drawings
DEFAULT_MAX_CHARS = 100_000       # outside a Flask app; inside one, GRADELOOP_MAX_ESSAY_CHARS
MAX_FILENAME = 255
_CHUNK = 64 * 1024


class EssayFileError(ValueError):
    """The upload cannot be used; `str()` is shown to the student."""


def _suffix(filename: str) -> str:
    return PurePath(clean_filename(filename)).suffix.lower()


def clean_filename(filename: str | None) -> str:
    """The upload's file name as it can be stored and shown: without control and format characters
    (a NUL, which PostgreSQL cannot store, gave a 500; a right-to-left override can disguise the
    extension), without surrounding spaces, and at most 255 characters, keeping the end so the
    extension stays."""
    name = "".join(ch for ch in filename or "" if unicodedata.category(ch) not in ("Cc", "Cf"))
    return name.strip()[-MAX_FILENAME:]


def _decode_text(data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        encoding = "utf-16"
    else:
        encoding = "utf-8-sig"
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        text = _windows_western(data)
        if text is None:
            raise EssayFileError("This text file is not in UTF-8. Save it as UTF-8 text (or paste the essay) "
                                 "and try again.") from exc
    if "\x00" in text:
        raise EssayFileError("This file looks like a binary file, not text. Upload a .txt or .docx file.")
    return text


MOSTLY_ASCII = 0.8   # English or Western European prose: accents and curly quotes are a few letters in many


def _windows_western(data: bytes) -> str | None:
    """The text of an "ANSI" file (Windows-1252: what Notepad saved before 2019, and WordPad still
    does), or None. Only for text that is mostly ASCII letters: a file in another code page
    (Cyrillic, Greek) decodes without error but into nonsense letters, which must not be handed in
    as the student's essay."""
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        return None
    letters = [ch for ch in text if ch.isalpha()]
    if not letters or sum(ch.isascii() for ch in letters) / len(letters) < MOSTLY_ASCII:
        return None
    return text


UNREADABLE_DOCX = ("This Word file could not be read (it may be damaged, or not really a .docx). "
                   "Open it in your word processor, save it again as .docx, or paste the text.")
W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
MC_FALLBACK = "http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback"
OFFICE_DOCUMENT = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"
RELATIONSHIP = "http://schemas.openxmlformats.org/package/2006/relationships}Relationship"
MAX_RELS_BYTES = 1_000_000


def _too_long(max_chars: int) -> EssayFileError:
    return EssayFileError(f"The essay in this file has more than {max_chars:,} characters; the limit is "
                          f"{max_chars:,}.")


def _docx_text(data: bytes, max_chars: int) -> str:
    limit = max_chars * DOCX_XML_BYTES_PER_CHAR + DOCX_XML_OVERHEAD
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            info = archive.getinfo(_main_part(archive))
            # The size the archive declares is the sender's word, but zipfile holds it to it: it
            # never inflates more than that (it stops there and fails the CRC check).
            if info.file_size > limit:
                raise _oversized(max_chars)
            reader = _DocumentReader(max_chars)
            with archive.open(info) as xml:
                while chunk := xml.read(_CHUNK):
                    reader.feed(chunk)
            return reader.close()
    except EssayFileError:
        raise
    except Exception as exc:   # zipfile, zlib and expat raise assorted errors on damaged or odd files
        raise EssayFileError(UNREADABLE_DOCX) from exc


def _oversized(max_chars: int) -> EssayFileError:
    return EssayFileError(f"This Word file unpacks to far more than an essay of at most {max_chars:,} "
                          "characters needs. Copy the essay's text into a new document and save that as "
                          ".docx, or paste the text.")


def _main_part(archive: zipfile.ZipFile) -> str:
    """The document part that the package's relationships name (`word/document.xml` as Word
    writes it; other programs may name it differently)."""
    names = set(archive.namelist())
    if "_rels/.rels" not in names:
        return "word/document.xml"
    targets: list[str] = []

    def relationship(tag, attrs):
        if tag == RELATIONSHIP and attrs.get("Type") == OFFICE_DOCUMENT:
            targets.append(attrs.get("Target", ""))
    parser = _safe_parser()
    parser.StartElementHandler = relationship
    with archive.open("_rels/.rels") as rels:
        parser.Parse(rels.read(MAX_RELS_BYTES), True)
    for target in targets:
        name = posixpath.normpath(target.lstrip("/"))
        if name in names:
            return name
    return "word/document.xml"


def _safe_parser():
    """An expat parser with `namespace}name` tags that refuses any DTD: WordprocessingML never
    has one, and entity definitions are the classic way to make a few bytes expand."""
    parser = expat.ParserCreate(namespace_separator="}")
    parser.buffer_text = True

    def no_dtd(*args):
        raise ValueError("a DTD in a .docx")
    parser.StartDoctypeDeclHandler = no_dtd
    parser.EntityDeclHandler = no_dtd
    return parser


# WordprocessingML: python-docx's `document.paragraphs` sees only the body's direct paragraphs, so
# an essay typed inside a school template's content control (w:sdt) or with Track Changes on
# (w:ins) was silently dropped. The reader takes every paragraph, in document order.
_HIDE, _TEXT, _PARAGRAPH, _ROW, _CELL = range(5)
_KINDS = {
    # Deleted or moved-away text (still in the file while changes are tracked), the fallback copy
    # of a text box that Word stores beside the real one, and paragraph properties (whose tab
    # stops are w:tab elements too).
    W + "del": _HIDE, W + "moveFrom": _HIDE, MC_FALLBACK: _HIDE, W + "pPr": _HIDE,
    W + "t": _TEXT, W + "p": _PARAGRAPH, W + "tr": _ROW, W + "tc": _CELL,
    W + "tab": "\t", W + "br": "\n", W + "cr": "\n",
}


_BATCH = 4096


def _add(pieces: list[str], piece: str, sep: str) -> None:
    """`pieces.append(piece)`, joining them into one from time to time: a million small pieces
    (empty paragraphs, runs of two spaces) then cost their characters, not a million objects."""
    pieces.append(piece)
    if len(pieces) > _BATCH:
        pieces[:] = [sep.join(pieces)]


class _DocumentReader:
    """Text of a document part fed in pieces: one line per paragraph (a text box's paragraphs and
    line breaks inside it become line breaks), one line per table row with its cells separated by
    tabs and a cell's paragraphs by spaces. Raises `EssayFileError` as soon as the text has more
    than `max_chars` characters other than whitespace, the least it can still have after
    `normalise`. Its handlers run for every element of the file, so they do as little as they can."""

    def __init__(self, max_chars: int):
        self.max_chars, self.visible = max_chars, 0
        self.hidden = 0          # depth inside _HIDE elements
        self.in_text = False     # inside a w:t that is not hidden
        self.paragraph: list[str] | None = None
        self.nested = 0          # paragraphs open inside the current one (text boxes)
        self.lines: list[list[str]] = [[]]    # the body's lines, then those of each open table cell
        self.rows: list[list[str]] = []       # the cells of each open table row
        self.parser = _safe_parser()
        self.parser.StartElementHandler = self._start
        self.parser.EndElementHandler = self._end
        self.parser.CharacterDataHandler = self._text

    def feed(self, chunk: bytes) -> None:
        self.parser.Parse(chunk, False)

    def close(self) -> str:
        self.parser.Parse(b"", True)
        return "\n".join(self.lines[0])

    def _line(self, line: str) -> None:
        _add(self.lines[-1], line, " " if len(self.lines) > 1 else "\n")

    def _start(self, tag, attrs):
        kind = _KINDS.get(tag)
        if kind is None:
            return
        if kind == _HIDE:
            self.hidden += 1
        elif self.hidden:
            return
        elif kind == _TEXT:
            self.in_text = self.paragraph is not None
        elif kind == _PARAGRAPH:
            if self.paragraph is None:
                self.paragraph = []
            else:
                self.nested += 1
                _add(self.paragraph, "\n", "")
        elif self.paragraph is not None:   # in a paragraph, a (text box's) table is only text
            if isinstance(kind, str):
                _add(self.paragraph, kind, "")
        elif kind == _ROW:
            self.rows.append([])
        elif kind == _CELL:
            self.lines.append([])

    def _end(self, tag):
        kind = _KINDS.get(tag)
        if kind is None:
            return
        if kind == _HIDE:
            self.hidden -= 1
        elif self.hidden:
            return
        elif kind == _TEXT:
            self.in_text = False
        elif kind == _PARAGRAPH:
            if self.nested:
                self.nested -= 1
            else:
                self._line("".join(self.paragraph))
                self.paragraph = None
        elif self.paragraph is not None:
            return
        elif kind == _CELL:
            cell = " ".join(self.lines.pop())
            _add(self.rows[-1], cell, "\t") if self.rows else self._line(cell)
        elif kind == _ROW:
            self._line("\t".join(self.rows.pop()))

    def _text(self, text):
        if self.in_text and not self.hidden:
            _add(self.paragraph, text, "")
            self.visible += len("".join(text.split()))
            if self.visible > self.max_chars:
                raise _too_long(self.max_chars)


def extract_text(filename: str, data: bytes, *, max_bytes: int, max_chars: int | None = None) -> str:
    """The essay text of an upload, or `EssayFileError`. `max_chars` (by default the app's
    GRADELOOP_MAX_ESSAY_CHARS) bounds how much of a .docx is read; the caller still checks the
    length of the text returned."""
    if max_chars is None:
        max_chars = _configured_max_chars()
    suffix = _suffix(filename)
    if suffix not in ACCEPTED:
        raise EssayFileError(f"{_kind_of_file(suffix)} can't be read: upload a {_ACCEPTED_WORDS} file, "
                             "or paste the text.")
    if len(data) > max_bytes:
        raise EssayFileError(f"This file is {len(data):,} bytes; the limit is {max_bytes:,} bytes.")
    if not data:
        raise EssayFileError("This file is empty.")
    text = _docx_text(data, max_chars) if suffix in DOCX_TYPES else _decode_text(data)
    return normalise(text)


_ACCEPTED_WORDS = ", ".join(ACCEPTED[:-1]) + " or " + ACCEPTED[-1]     # ".txt, .md or .docx"


def _kind_of_file(suffix: str) -> str:
    """A refused upload's kind, as a student names it: "PDF files" (not "Files .pdf")."""
    if not suffix:
        return "A file without an extension"
    name = suffix[1:]
    return f"{name.upper()} files" if name.isascii() and name.isalnum() and len(name) <= 5 else f"“{suffix}” files"


def _configured_max_chars() -> int:
    from flask import current_app, has_app_context

    return current_app.config["GRADELOOP_MAX_ESSAY_CHARS"] if has_app_context() else DEFAULT_MAX_CHARS
