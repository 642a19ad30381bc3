"""Turn an uploaded essay file into plain text: `.txt`/`.md` (UTF-8, or UTF-16 with a BOM) and
`.docx` (python-docx). Anything else, or a file we cannot read, is refused with a sentence that
says what to do; nothing is stored on error."""
from __future__ import annotations

import io
import zipfile
from pathlib import PurePath

TEXT_TYPES = (".txt", ".md")
DOCX_TYPES = (".docx",)
ACCEPTED = TEXT_TYPES + DOCX_TYPES
ACCEPT_ATTR = ",".join(ACCEPTED)
# A .docx inflates; refuse archives whose content is far larger than any essay (zip bombs).
MAX_DOCX_INFLATED = 50_000_000


class EssayFileError(ValueError):
    """The upload cannot be used; `str()` is shown to the student."""


def _suffix(filename: str) -> str:
    return PurePath(filename or "").suffix.lower()


def _decode_text(data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        encoding = "utf-16"
    else:
        encoding = "utf-8-sig"
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise EssayFileError("This text file is not in UTF-8. Save it as UTF-8 text (or paste the essay) "
                             "and try again.") from exc
    if "\x00" in text:
        raise EssayFileError("This file looks like a binary file, not text. Upload a .txt or .docx file.")
    return text


def _docx_text(data: bytes) -> str:
    import docx  # python-docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if sum(info.file_size for info in archive.infolist()) > MAX_DOCX_INFLATED:
                raise EssayFileError("This Word file is too large once unpacked.")
        document = docx.Document(io.BytesIO(data))
    except EssayFileError:
        raise
    except (zipfile.BadZipFile, PackageNotFoundError, KeyError, ValueError, OSError) as exc:
        raise EssayFileError("This Word file could not be read (it may be damaged, or not really a .docx). "
                             "Open it in your word processor, save it again as .docx, or paste the text.") from exc
    except Exception as exc:  # lxml/python-docx raise assorted errors on malformed XML
        raise EssayFileError("This Word file could not be read. Save it again as .docx or paste the text.") from exc
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts.append("\t".join(cell.text for cell in row.cells))
    return "\n".join(parts)


def extract_text(filename: str, data: bytes, *, max_bytes: int) -> str:
    """The essay text of an upload, or `EssayFileError`."""
    suffix = _suffix(filename)
    if suffix not in ACCEPTED:
        shown = suffix or "without an extension"
        raise EssayFileError(f"Files {shown} are not accepted. Upload a .txt, .md or .docx file, or paste the text.")
    if len(data) > max_bytes:
        raise EssayFileError(f"This file is {len(data):,} bytes; the limit is {max_bytes:,} bytes.")
    if not data:
        raise EssayFileError("This file is empty.")
    text = _docx_text(data) if suffix in DOCX_TYPES else _decode_text(data)
    return normalise(text)


def normalise(text: str) -> str:
    """Unix newlines and no trailing blanks, so word counts and models see the same text. NUL
    characters (never text; PostgreSQL cannot store them, a pasted one gave a 500) are dropped."""
    text = text.replace("\x00", "").replace("\r\n", "\n").replace("\r", "\n")
    return "\n".join(line.rstrip() for line in text.split("\n")).strip()


def word_count(text: str) -> int:
    return len(text.split())
