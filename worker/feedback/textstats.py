"""Measurements of one essay's text: words, paragraphs, sentences, quotations, mechanics.

Everything here is counted, never judged: the points module turns counts into sentences only
when they differ from what the course's better-graded essays show.
"""
from __future__ import annotations

import re
import statistics
from collections.abc import Iterator
from dataclasses import dataclass, field

from lti_app.coursework.essay_text import word_count

# A letter of any alphabet, with the combining accents of a decomposed one ("cafe" + U+0301):
# [A-Za-z] cut "café" and "José" into "caf" and "Jos", which were listed as misspellings.
LETTER = r"[^\W\d_][\u0300-\u036f]*"
# Inner apostrophes join ("don't", "José's"); hyphens split ("well-known" is two words).
WORD = re.compile(rf"(?:{LETTER})+(?:'(?:{LETTER})+)*")
# A sentence ends at . ! ? (optionally followed by closing quotes/brackets) before whitespace,
# or at a line break: students often drop the final full stop of a paragraph. It also ends at a
# stop typed with the space before it or with none ("c average .If you", "his test .I thing",
# "OLDER PERSONS.I THINK"), a habit of English learners and weak typists, when a capitalised
# word follows: "The essay has only 2 sentences" was told to an essay of 11 so typed. The stop
# must follow a space or a word of 2+ letters, so initials and "U.S.A" stay whole (and "Mr.Smith"
# is joined again as an abbreviation); both sides are a few characters wide, so it stays linear.
_SENT_END = re.compile(r"(?<=[.!?])[\"'\u201d\u2019)]*\s+|\n+"
                       r"|(?:(?<= [.!?])|(?<=[^\W\d_]{2}[.!?]))(?=I\b|[A-Z][a-z]|[A-Z]{2})")
_QUOTE = re.compile(r"[\"\u201c]([^\"\u201c\u201d]{3,400}?)[\"\u201d]")
_LOWER_I = re.compile(r"(?<![^\W\d_'.])i(?!\.[a-z]\.)(?=(?:'[a-z]+)?(?![^\W\d_]|[\u0300-\u036f]))")
# Same line only: a word that ends one paragraph and starts the next ("... as stated in\n\nIn
# German Suburb") is no slip.
_DOUBLED = re.compile(r"\b([^\W\d_]+)[ \t]+\1\b", re.I)
# No space after a mark: "word.Next", "test.I", and the space typed before it instead ("c average .If").
_NO_SPACE = re.compile(r"[a-z]{2}[.!?,](?:[A-Za-z]{2}|I\b)| [.!?](?=[A-Z])")
_ABBREV = re.compile(r"\b(?:e\.g|i\.e|etc|vs|mr|mrs|ms|dr|st|u\.s|a\.m|p\.m)\.$", re.I)
_ETC = re.compile(r"\betc\.$", re.I)
# Enough of a sentence's end for `_ABBREV`: its longest match ("e.g.") and the character before it.
_ABBREV_CHARS = 8

STOPWORDS = frozenset("""
a about above after again against all also am an and any are as at be because been before being
below between both but by can could did do does doing down during each few for from further had
has have having he her here hers him his how i if in into is it its itself just me more most my
no nor not now of off on once only or other our out over own same she should so some such than
that the their them then there these they this those through to too under until up very was we
were what when where which while who whom why will with would you your yours yourself
""".split())

# Words of a prompt's instructions and of essay writing in general, never its topic: "Using
# information in the article, write an essay ..." told students to use "information" as a key
# term. The last line: pronoun-like words ("someone", "others") that STOPWORDS lacks.
INSTRUCTION_WORDS = frozenset("""
write writing written essay essays paragraph paragraphs multiparagraph letter response responses
respond prompt answer explain explanation explanatory describe describes discuss evaluate
evaluating evaluates argue argues arguing argument arguments argumentative persuade persuasive
convince convincing inform informative imagine include including provide provided address
revise edit manage carefully sure based using make think read reading whether article articles
passage passages text texts source sources author authors information details detail evidence
example examples quote quotes cite support supports supporting claim claims counterclaim
counterclaims position reason reasons idea ideas introduction conclusion thesis presents suggests
aspects favor favour overly
must someone something anyone everyone others many people
""".split())
# Test boilerplate whose words are topic words elsewhere ("space" in a prompt about space).
_BOILERPLATE = re.compile(r"in the space provided|manage your time|plan your response|"
                          r"an introduction, a body|in the form of|point of view|multiple sources|"
                          r"avoid overly relying|can be found", re.I)

# Doubled words that are grammatical ("that that", "had had") are not slips.
_OK_DOUBLES = frozenset({"that", "had", "is", "do"})


def hyphenated(text: str) -> Iterator[list[re.Match]]:
    """The words joined by hyphens, as `WORD` matches ("pre-tests": [pre, tests]), for the spelling
    check, which reads them together: a prefix written on its own ("pre", "multi") is no English
    word. Built from one pass of `WORD`, so linear in the text: a pattern for the whole compound,
    tried again from inside a long word, took minutes on one 90,000-letter "word"."""
    run: list[re.Match] = []
    for m in WORD.finditer(text):
        if run and m.start() == run[-1].end() + 1 and text[run[-1].end()] in "-\u2010":
            run.append(m)
            continue
        if len(run) > 1:
            yield run
        run = [m]
    if len(run) > 1:
        yield run


def words(text: str) -> list[str]:
    return WORD.findall(text or "")


def split_sentences(text: str) -> list[str]:
    # A sentence cut after an abbreviation ("e.g.") is kept as its parts and only the last few
    # characters are checked for another one: the sentence built up and searched whole at each
    # part took over a minute on one essay of "e.g. e.g. ..." (the worker's heartbeats wait meanwhile).
    # "etc." before a capitalised word ends its sentence ("sad and etc. The facial ..."); the
    # other abbreviations there begin a name ("Mr. Smith") or an example ("e.g. Mars").
    pieces, buf, tail = [], [], ""
    parts = _SENT_END.split((text or "").strip())
    for i, piece in enumerate(parts):
        piece = piece.rstrip() if buf else piece.strip()
        if not piece:
            continue
        buf.append(piece)
        tail = f"{tail} {piece}"[-_ABBREV_CHARS:] if len(buf) > 1 else piece[-_ABBREV_CHARS:]
        ends = not _ABBREV.search(tail) or (
            _ETC.search(tail) and i + 1 < len(parts) and parts[i + 1].lstrip()[:1].isupper())
        if ends:
            pieces.append(" ".join(buf))
            buf = []
    if buf:
        pieces.append(" ".join(buf))
    return [p for p in pieces if WORD.search(p)]


def paragraphs(text: str) -> list[str]:
    return [p.strip() for p in re.split(r"\n\s*", text or "") if WORD.search(p)]


def quotations(text: str) -> list[str]:
    """Quoted spans of at least three words (a quoted single word is emphasis, not evidence)."""
    return [q for q in _QUOTE.findall((text or "").replace("''", '"')) if len(words(q)) >= 3]


@dataclass
class EssayStats:
    n_words: int
    paragraph_words: list[int]
    sentence_words: list[int]
    n_quotes: int
    lower_i: int = 0
    lowercase_starts: int = 0
    doubled_words: list[str] = field(default_factory=list)
    missing_spaces: int = 0
    word_list: list[str] = field(default_factory=list)
    # Words as the hand-in page counts them (whitespace-separated, `essay_text.word_count`): the
    # number a point states, and the one its check compares. `n_words` counts runs of letters
    # (`WORD`): numbers are left out and "well-known" is two words, which told a student
    # "551 words" under a page that said 563.
    shown_words: int = 0

    @property
    def n_paragraphs(self) -> int:
        return len(self.paragraph_words)

    @property
    def n_sentences(self) -> int:
        return len(self.sentence_words)

    @property
    def mean_sentence(self) -> float:
        return statistics.fmean(self.sentence_words) if self.sentence_words else 0.0

    @property
    def sentence_spread(self) -> float:
        return statistics.pstdev(self.sentence_words) if len(self.sentence_words) > 1 else 0.0


def measure(text: str) -> EssayStats:
    text = text or ""
    tokens = words(text)
    sents = split_sentences(text)
    starts = 0
    for s in sents:
        first = s.lstrip("\"'\u201c( -*")
        starts += bool(first[:1].isalpha() and first[:1].islower())
    doubled: dict[str, str] = {}   # each slip once, as first written
    for m in _DOUBLED.finditer(text):
        if m.group(1).lower() not in _OK_DOUBLES:
            doubled.setdefault(m.group(1).lower(), " ".join(m.group(0).split()))
    return EssayStats(
        n_words=len(tokens),
        paragraph_words=[len(words(p)) for p in paragraphs(text)],
        sentence_words=[len(words(s)) for s in sents],
        n_quotes=len(quotations(text)),
        lower_i=len(_LOWER_I.findall(text)),
        lowercase_starts=starts,
        doubled_words=list(doubled.values()),
        missing_spaces=len(_NO_SPACE.findall(text)),
        word_list=tokens,
        shown_words=word_count(text),
    )


def content_terms(text: str, min_len: int = 4) -> list[str]:
    """A prompt's topic words, lower-cased, in order of first appearance: no stopwords, no
    instruction words or boilerplate, no duplicates."""
    seen: dict[str, None] = {}
    for w in words(_BOILERPLATE.sub(" ", text or "")):
        lw = w.lower()
        if len(lw) >= min_len and lw not in STOPWORDS and lw not in INSTRUCTION_WORDS:
            seen.setdefault(lw, None)
    return list(seen)
