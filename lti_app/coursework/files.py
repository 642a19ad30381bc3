"""Turn an uploaded essay file into plain text: `.txt`/`.md` (UTF-8, or UTF-16 with a BOM) and
`.docx` (python-docx opens it; the text is read from its XML, content controls and tracked insertions
included, deletions left out). Anything else, or a file we cannot read, is refused with a sentence that
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
    return "\n".join(_blocks(document.element.body))


# WordprocessingML: python-docx's `document.paragraphs` sees only the body's direct paragraphs, so
# an essay typed inside a school template's content control (w:sdt) or with Track Changes on
# (w:ins) was silently dropped. Walk the XML instead, in document order.
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
MC_FALLBACK = "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback"
# Deleted or moved-away text (still in the file while changes are tracked), and the fallback copy
# of a text box that Word stores beside the real one.
_NOT_TEXT = {W + "del", W + "moveFrom", MC_FALLBACK}
_CONTAINERS = {W + "sdt", W + "sdtContent", W + "customXml", W + "ins", W + "smartTag"}


def _blocks(parent):
    """Paragraph and table-row texts under a body-like element, in order."""
    for child in parent:
        if child.tag == W + "p":
            yield _paragraph_text(child)
        elif child.tag == W + "tbl":
            for row in child.iter(W + "tr"):
                yield "\t".join(" ".join(_blocks(cell)) for cell in row if cell.tag == W + "tc")
        elif child.tag in _CONTAINERS:
            yield from _blocks(child)


def _paragraph_text(paragraph) -> str:
    out = []
    for node in paragraph.iter(W + "t", W + "tab", W + "br", W + "cr", W + "p"):
        if _skipped(node, paragraph):
            continue
        if node.tag == W + "t":
            out.append(node.text or "")
        elif node.tag == W + "tab":
            out.append("\t")
        elif node is not paragraph:   # a line break, or a paragraph of a text box inside this one
            out.append("\n")
    return "".join(out)


def _skipped(node, paragraph) -> bool:
    parent = node.getparent()
    while parent is not None and parent is not paragraph:
        if parent.tag in _NOT_TEXT:
            return True
        parent = parent.getparent()
    return False


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
