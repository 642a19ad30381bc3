"""The rules every essay path shares, whatever brought the text (a pasted essay, an uploaded file,
a CSV import, a course copy): `normalise` (what is stored), `has_visible_text` (what counts as
empty) and `word_count`."""
from __future__ import annotations

import unicodedata


def normalise(text: str) -> str:
    """Unix newlines and no trailing blanks, so word counts and models see the same text. NUL
    characters (never text; PostgreSQL cannot store them, a pasted one gave a 500) are dropped.
    A text without a visible character (`has_visible_text`) becomes "", so every check for an
    empty essay refuses it; inside a text with visible characters, zero-width and other invisible
    characters are kept as they are (ZWNJ and ZWJ are part of how Persian, Indic scripts and
    emoji are spelt)."""
    text = text.replace("\x00", "").replace("\r\n", "\n").replace("\r", "\n")
    text = "\n".join(line.rstrip() for line in text.split("\n")).strip()
    return text if has_visible_text(text) else ""


# Letters and marks that show nothing although they are not in a C (control, format) or Z
# (separator) category: Hangul fillers, variation selectors, the combining grapheme joiner,
# Mongolian variation selectors, Khmer inherent vowels and the blank Braille pattern.
_BLANK_LOOKING = frozenset("\u034f\u115f\u1160\u17b4\u17b5\u180b\u180c\u180d\u180f\u2800\u3164\uffa0"
                           + "".join(map(chr, range(0xFE00, 0xFE10)))
                           + "".join(map(chr, range(0xE0100, 0xE01F0))))


def _visible(ch: str) -> bool:
    return not ch.isspace() and unicodedata.category(ch)[0] not in "CZ" and ch not in _BLANK_LOOKING


def has_visible_text(text: str) -> bool:
    """Whether `text` has a character that shows on screen. An essay of zero-width spaces, word
    joiners or byte order marks ("\u200b\u200b") was handed in and imported as training data."""
    return any(map(_visible, text))


def word_count(text: str) -> int:
    """Words as separated by whitespace; a "word" of invisible characters only is not one."""
    return sum(1 for word in text.split() if has_visible_text(word))
