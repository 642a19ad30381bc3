"""What the hand-in form checks in the essay's words before it is stored, beyond being empty or
too long: an essay with no words at all (emoji or symbols only) is refused, and a very short one
is handed in only once the student confirms it (a slip of the paste, or "Mars is rock." typed to
see what happens, was handed in silently and graded).

There is no per-assignment length setting: a short-answer assignment is as valid as an essay, so
a short text is a question, never a refusal. The question works without JavaScript: the page asks,
and the form sends `short_ok`, the digest of the text the student confirmed (editing the text asks
again, since the confirmed text is no longer the one sent)."""
from __future__ import annotations

from flask import current_app, request

from lti_app.coursework.files import EssayFileError

def short_words() -> int:
    """`GRADELOOP_SHORT_ESSAY_WORDS` (config/settings.py: 50, 0 in the test environment)."""
    return current_app.config["GRADELOOP_SHORT_ESSAY_WORDS"]


def require_words(text: str, from_file: bool) -> None:
    """Refuse a text without a single letter: nothing in it can be read as an essay."""
    if not any(ch.isalpha() for ch in text):
        raise EssayFileError(("This file" if from_file else "Your essay") + " contains no words, only symbols or "
                             "emoji. Write your essay in words, then hand it in.")


def too_long(chars: int, max_chars: int, earlier_kept: bool) -> str:
    """The too-long refusal, with what to do next and what stays handed in."""
    return (f"The essay has {chars:,} characters; the limit is {max_chars:,}. Shorten it by "
            f"{chars - max_chars:,} characters and hand it in again."
            + (" Your earlier version is still the one handed in." if earlier_kept else ""))


def short_question(words: int, digest: str, earlier_words: int | None) -> str | None:
    """"Your essay has only N words. Hand it in anyway?" unless the text is long enough, this very
    text (`digest`, `submissions.box_digest`) was confirmed, or the version handed in before
    (`earlier_words`) was as short: the student confirmed a short answer once, and fixing a typo in
    it is not asked about again."""
    limit = short_words()
    if words >= limit or (earlier_words is not None and earlier_words < limit) \
            or request.form.get("short_ok") == digest:
        return None
    return f"Your essay has only {words} word{'' if words == 1 else 's'}. Hand it in anyway?"
