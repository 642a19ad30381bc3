"""What a student changed in a revision (`revision.py`): the text the grade was given on
(`Grade.essay_text`) against the new version, word by word, for the grading and AI review pages.

The result is data, never markup: segments of unchanged, inserted and deleted text that the
template wraps in <ins>/<del> with autoescaping on. Callers hand in texts already through the
page's `anonymity.redactor`, so a signed name is `[student]` in the diff as everywhere else.

An essay may be `GRADELOOP_MAX_ESSAY_CHARS` long (100,000 characters by default, some 20,000
words), and difflib's time on two such versions ranges from milliseconds to minutes with what
changed. So the work is bounded by a count of difflib's steps (`BUDGET`), not by the texts'
length: the unchanged start and end are set aside first (a revision usually edits a few places),
then words are compared; past the budget, paragraphs are compared, with words inside each changed
run of paragraphs while a second budget lasts; past a third, the page says there are too many
changes to show."""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from itertools import accumulate, groupby
from operator import itemgetter

from lti_app.coursework.essay_text import word_count
from lti_app.models import Grade

SAME, INSERTED, DELETED = "same", "inserted", "deleted"

# Steps of difflib's longest-match search (`_Bounded`) one comparison may take, once word by word,
# once paragraph by paragraph and once for the words inside changed paragraphs: the worst cases
# found take about 0.1 s in all on a busy 2-core machine (tests/coursework/test_version_diff.py).
BUDGET = 200_000

# A word with the whitespace before it: a deleted or inserted word takes its own space (and a new
# paragraph its line breaks) along, so the text around it reads as before.
_WORDS = re.compile(r"\s*\S+")
# A line with the line breaks before it (the paragraph it starts).
_LINES = re.compile(r"\n*[^\n]+")


@dataclass(frozen=True)
class Segment:
    kind: str   # SAME, INSERTED or DELETED
    text: str


@dataclass(frozen=True)
class VersionDiff:
    segments: tuple[Segment, ...]   # empty when `too_large`
    added: int                      # words
    removed: int
    identical: bool = False
    too_large: bool = False

    @property
    def summary(self) -> str:
        if self.identical:
            # Said plainly: a teacher must not read "nothing marked" as a comparison that failed.
            return "No changes: the student handed in the same text as the graded version."
        if self.too_large:
            return "Too many changes to show word by word: compare the two versions in full."
        if not self.added and not self.removed:
            return "Only spacing or line breaks changed; the words are the same."
        return f"{self.added} word{'' if self.added == 1 else 's'} added, {self.removed} removed."


def compare(graded: str, revised: str) -> VersionDiff:
    """`revised` against `graded` (both already as the page shows them). Words are compared, not
    the spaces between them; unchanged words are shown with the revision's spacing and line
    breaks."""
    if graded == revised:
        return VersionDiff((Segment(SAME, revised),) if revised else (), 0, 0, identical=True)
    old, new = _WORDS.findall(graded), _WORDS.findall(revised)
    start = _common_start(old, new)
    end = _common_start(old[start:][::-1], new[start:][::-1])
    a, b = old[start:len(old) - end], new[start:len(new) - end]
    try:
        middle = _words(a, b, _Bounded.budget())
    except _OverBudget:
        try:
            middle = _paragraphs("".join(a), "".join(b))
        except _OverBudget:
            return VersionDiff((), 0, 0, too_large=True)
    # Trailing whitespace belongs to no word; normalised essays have none.
    segments = _joined([(SAME, "".join(new[:start])), *middle, (SAME, "".join(new[len(new) - end:])),
                        (SAME, revised[len(revised.rstrip()):])])
    return VersionDiff(tuple(segments), sum(word_count(s.text) for s in segments if s.kind == INSERTED),
                       sum(word_count(s.text) for s in segments if s.kind == DELETED))


def since_graded(grade: Grade | None, text: str, shown) -> VersionDiff | None:
    """The diff a page shows for a revision whose current grade is `grade`, or None when that grade
    is on the current text. `shown` (anonymity.redactor) runs before the comparison: a name
    redacted afterwards could be split across segments and slip through."""
    if grade is None or not grade.on_earlier_version:
        return None
    return compare(shown(grade.essay_text), shown(text))


def _common_start(a: list[str], b: list[str]) -> int:
    n = 0
    for x, y in zip(a, b):
        if _key(x) != _key(y):
            break
        n += 1
    return n


def _key(token: str) -> str:
    return token.lstrip()


class _OverBudget(Exception):
    pass


class _Bounded(difflib.SequenceMatcher):
    """difflib's matcher on tokens compared without their leading whitespace, that gives up
    (`_OverBudget`) past its share of `budget`. Its time does not follow the texts' lengths: each
    search walks every position in b of every word in its part of a (a text of one word repeated
    is short but costly), and a diff with many changes searches again between each two. autojunk
    is off: on long texts it keeps frequent words ("the", "and") from ever matching, and each one
    between two changes would show as deleted and inserted again."""

    def __init__(self, a: list[str], b: list[str], budget: list[int]):
        # Indexing the texts is work too: thousands of one-line paragraphs cost thousands of matchers.
        budget[0] -= len(a) + len(b)
        if budget[0] < 0:
            raise _OverBudget
        super().__init__(None, list(map(_key, a)), list(map(_key, b)), autojunk=False)
        self.tokens, self.left = (a, b), budget
        # A search over a[alo:ahi] costs the positions in b of those words, plus the words:
        # summed ahead once, since summing them at each search took longer than the searches.
        positions = self.b2j
        self.steps = [0, *accumulate(len(positions.get(x, ())) + 1 for x in self.a)]

    @staticmethod
    def budget() -> list[int]:
        """Steps left, shared by the matchers it is given to."""
        return [BUDGET]

    def find_longest_match(self, alo=0, ahi=None, blo=0, bhi=None):
        self.left[0] -= self.steps[ahi] - self.steps[alo]
        if self.left[0] < 0:
            raise _OverBudget
        return super().find_longest_match(alo, ahi, blo, bhi)

    def changes(self) -> list[tuple[str, list[str], list[str]]]:
        a, b = self.tokens
        return [(tag, a[i1:i2], b[j1:j2]) for tag, i1, i2, j1, j2 in self.get_opcodes()]


def _words(a: list[str], b: list[str], budget: list[int]) -> list[tuple[str, str]]:
    pieces = []
    for tag, old, new in _Bounded(a, b, budget).changes():
        if tag == "equal":
            pieces.append((SAME, "".join(new)))
        else:
            pieces += [(DELETED, "".join(old)), (INSERTED, "".join(new))]
    return pieces


def _paragraphs(graded: str, revised: str) -> list[tuple[str, str]]:
    """Pieces of a change too costly for one word diff: paragraphs compared, then words inside each
    changed run of paragraphs while a second budget lasts (runs after it are shown whole)."""
    pieces, budget = [], _Bounded.budget()
    for tag, a, b in _Bounded(_LINES.findall(graded), _LINES.findall(revised), _Bounded.budget()).changes():
        if tag == "equal":
            pieces.append((SAME, "".join(b)))
            continue
        try:
            pieces += _words(_WORDS.findall("".join(a)), _WORDS.findall("".join(b)), budget)
        except _OverBudget:
            pieces += [(DELETED, "".join(a)), (INSERTED, "".join(b))]
    return pieces


def _joined(pieces: list[tuple[str, str]]) -> list[Segment]:
    """Segments without empty text, neighbours of one kind joined (in one join: adding strings one
    by one is quadratic on thousands of pieces)."""
    return [Segment(kind, "".join(text for _, text in run))
            for kind, run in groupby((p for p in pieces if p[1]), key=itemgetter(0))]
