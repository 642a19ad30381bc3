"""Whether a teacher's saved comment still carries the AI's feedback: what decides if the student
is told the feedback is AI-assisted (grade source AI_EDITED) or it is the teacher's own (TEACHER).
One rule for the grading page and the review page: a teacher who rewrote every word was labelled
"AI-assisted" on one, and one who added a sentence to the AI's text lost the label on the other."""
from __future__ import annotations

import re

_PIECES = re.compile(r"(?<=[.!?])\s+|\n+")
_BULLET = re.compile(r"^\s*[-\u2022*]\s*")
MIN_WORDS = 3   # "Good." or "Well done." is anyone's sentence, not evidence of the AI's text


def _even(text: str) -> str:
    return " ".join((text or "").split()).casefold()


def keeps_ai_words(comment: str, ai_feedback: str) -> bool:
    """Whether `comment` is `ai_feedback`, or holds any of its sentences (or bullet lines) of
    MIN_WORDS or more words, with whitespace and case evened out (a browser sends line breaks as
    CRLF)."""
    said = _even(comment)
    if not said:
        return False
    if said == _even(ai_feedback):   # kept as it is, however short
        return True
    for piece in _PIECES.split(ai_feedback or ""):
        piece = _even(_BULLET.sub("", piece))
        if len(piece.split()) >= MIN_WORDS and piece in said:
            return True
    return False
