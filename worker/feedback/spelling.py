"""Offline spelling check: an English word list plus the course's own vocabulary.

The English list is the dictionary that ships inside `pyspellchecker` (a JSON file in the
wheel; nothing is downloaded). Course words (names, topic terms like "Cydonia") are accepted
when the course's better-graded essays use them repeatedly, unless they are one edit away from
an English word, which is what a shared misspelling ("alot", "thier") looks like, and the
better essays do not write them as a name or acronym ("Malin", "JPL") more than in lower case.
Capitalised words inside a sentence are treated as names and never flagged, and words in
capitals as acronyms, except in an essay typed in capitals (`in_capitals`): there case says
nothing, so every word is checked in lower case and only course words and the few common
acronyms below are accepted.
"""
from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache

from worker.feedback.textstats import WORD, hyphenated, words

_LETTERS = "abcdefghijklmnopqrstuvwxyz'"
# Everyday words of student essays that the shipped list lacks.
_EXTRA = frozenset("""
etc ok okay internet email emails online website websites texting texted selfie selfies app apps
smartphone smartphones covid laptop laptops homeschool homeschooling wifi youtube google
""".split())
# The Latin of "bona fide", "vice versa", "status quo", "a priori"...: accepted by `misspelled`
# only. `english_words` also feeds the general model's features (worker.ml.stylefeatures): a
# word added to it changes every general model pretrained afterwards (saved ones keep their own
# copy of the list, `GeneralModel.words`), and the CI test course sits near the SMD gate.
_LATIN = frozenset("fide versa hoc quo facto cetera priori posteriori".split())
# Forms of everyday school words the shipped list lacks ("home schoolers", "Homeschooled ...",
# "sports and extracurriculars"), accepted by `misspelled` only, for the same reason.
_FORMS = frozenset("""
schooler schoolers homeschooled homeschoolers homeschools extracurriculars
""".split())
# Prefixes written before a hyphen ("pre-tests", "multi-tasking", "un-American", "tri-state"):
# checked on their own they looked misspelled. The word after the hyphen is still checked.
_PREFIXES = frozenset("""
pre multi un non anti co semi sub mid post inter ex bi tri mis dis neo pro re de over under
tele cyber pseudo hyper intra poly mono uni mega micro mini ultra super trans counter self
""".split())
# Acronyms students use whatever the topic; course-specific ones (NASA in a Mars course, FACS)
# come from the course vocabulary. Only consulted for an essay typed in capitals.
_ACRONYMS = frozenset("""
usa us uk tv pc dna gpa pe fbi cia atm gps ceo nfl nba mlb ufo ai ipad iphone
""".split())
# "Most letters": a shouted word or heading in a normal essay stays far below this.
CAPITALS_SHARE = 0.5
# Where a sentence's first word starts (a letter of any alphabet: "Él dijo", "Ángel went").
# The whitespace is bounded: `\s*` tried again from every line break of a long run of blank lines
# that ends on no letter, so one hostile essay took minutes (and held the worker's heartbeats).
_SENTENCE_START = re.compile(r"(?:^|[.!?\n]\s{0,40})[\"'\u201c(]*([^\W\d_])")


@lru_cache(maxsize=1)
def english_words() -> frozenset[str]:
    try:
        from spellchecker import SpellChecker
    except ImportError:  # pragma: no cover - the package is a declared dependency
        return frozenset()
    return frozenset(SpellChecker(language="en", distance=1).word_frequency.dictionary) | _EXTRA


COMMON_MIN_COUNT = 2000   # pyspellchecker counts: "jordan" 1531, "marcus" 1123; "thesis" 4351


@lru_cache(maxsize=1)
def common_words() -> frozenset[str]:
    """The shipped list's frequent words: a capitalised word outside it may be a name."""
    try:
        from spellchecker import SpellChecker
    except ImportError:  # pragma: no cover - the package is a declared dependency
        return frozenset()
    counts = SpellChecker(language="en", distance=1).word_frequency.dictionary
    return frozenset(w for w, c in counts.items() if c >= COMMON_MIN_COUNT) | _EXTRA


def _edits1(word: str) -> set[str]:
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    return ({a + b[1:] for a, b in splits if b}
            | {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
            | {a + c + b[1:] for a, b in splits if b for c in _LETTERS}
            | {a + c + b for a, b in splits for c in _LETTERS})


def near_english(word: str) -> bool:
    english = english_words()
    # One edit changes the length by one at most, so a longer word is near none; and its edits
    # grow with the square of its length (a 4,000-letter "word" took 900 MB, 100,000 letters all
    # the worker's memory).
    if len(word) > _longest(english) + 1:
        return False
    return any(e in english for e in _edits1(word))


@lru_cache(maxsize=1)
def _longest(english: frozenset[str]) -> int:
    return max(map(len, english), default=0)


def word_key(token: str) -> str:
    """How a word is looked up in the English list: lower case, without a possessive 's."""
    lw = token.lower()
    return lw[:-2] if lw.endswith("'s") else lw


def course_vocabulary(texts_and_scores, prompt: str = "") -> frozenset[str]:
    """Words this course uses that the English list lacks but that are not misspellings."""
    english = english_words()
    pairs = list(texts_and_scores)
    accepted = {word_key(w) for w in words(prompt)}
    if not pairs:
        return frozenset(accepted)
    scores = sorted(s for _, s in pairs)
    median = scores[len(scores) // 2]
    upper = [t for t, s in pairs if s >= median]
    df, proper, plain = Counter(), Counter(), Counter()
    for text in upper:
        df.update({word_key(w) for w in words(text)} - english)
        named, lower = case_use(text)
        proper.update(named - english)
        plain.update(lower - english)
    floor = max(3, round(0.03 * len(upper)))
    for word, count in df.items():
        if count >= floor and (count >= 0.2 * len(upper) or not near_english(word)
                               or proper[word] >= max(floor, plain[word] + 1)):
            accepted.add(word)
    return frozenset(accepted)


def case_use(text: str) -> tuple[set[str], set[str]]:
    """Words `text` writes as a name or acronym ("Malin" mid-sentence, "JPL"), and words it
    writes in lower case.

    A word that many good essays write as a name or acronym, and fewer write in lower case, is
    a name or acronym of the course even when it is one edit from an English word ("Malin",
    "MOC"); a shared misspelling that students capitalise ("Driveless cars") is also written
    in lower case by others. An essay typed in capitals says nothing about case."""
    text = (text or "").replace("\u2019", "'")
    if in_capitals(text):
        return set(), set()
    starts = {m.start(1) for m in _SENTENCE_START.finditer(text)}
    named, lower = set(), set()
    for m in WORD.finditer(text):
        token = m.group(0)
        if token.islower():
            lower.add(word_key(token))
        elif len(token) > 1 and (token.isupper() or m.start() not in starts):
            named.add(word_key(token))
    return named, lower


_SUFFIXES = frozenset({"ve", "ll", "re", "d", "m", "s"})


def _contraction_ok(key: str, english: frozenset[str]) -> bool:
    """could've, they'll, teacher's: a known word plus a standard clitic."""
    base, _, suffix = key.partition("'")
    return bool(suffix) and suffix in _SUFFIXES and base in english


def in_capitals(text: str) -> bool:
    """Is most of the essay typed in capital letters?"""
    letters = [c for c in text or "" if c.isascii() and c.isalpha()]
    return bool(letters) and sum(c.isupper() for c in letters) > CAPITALS_SHARE * len(letters)


def misspelled(text: str, course_words: frozenset[str] = frozenset()) -> list[str]:
    """Unknown words of `text` in order of appearance (each listed once, original spelling)."""
    english = english_words()
    if not english:
        return []
    text = (text or "").replace("\u2019", "'")
    # In an essay typed in capitals every word looks like an acronym or a name, so skipping
    # those would skip every misspelling and let the essay pass as clean.
    capitals = in_capitals(text)
    starts = {m.start(1) for m in _SENTENCE_START.finditer(text)}
    joined = _joined_words(text, english, course_words)
    seen: dict[str, str] = {}
    for m in WORD.finditer(text):
        token = m.group(0)
        if len(token) < 2 or m.start() in joined:
            continue  # single letters; parts of a hyphenated word that are fine as written
        if token.lower() in _PREFIXES and text[m.end():m.end() + 1] in "-\u2010":
            continue  # a prefix left hanging before another word's: "pre- and post-tests"
        if capitals:
            if word_key(token) in _ACRONYMS:
                continue
        elif token.isupper():
            continue  # acronyms (NASA, FACS)
        elif token[0].isupper() and m.start() not in starts:
            continue  # a name mid-sentence
        if not token.isascii():
            continue  # café, José, naïve: the English list has few such words and cannot judge them
        key = word_key(token)
        if (key in english or key in _LATIN or key in _FORMS or key in course_words
                or _contraction_ok(key, english)):
            continue
        seen.setdefault(key, token)
    return list(seen.values())


def _joined_words(text: str, english: frozenset[str], course_words: frozenset[str]) -> set[int]:
    """Where the parts of hyphenated words start that are not to be checked on their own: every
    part of one that is a known word written together ("multi-tasking": "multitasking"), else
    its parts before a hyphen that are prefixes ("pre" of "pre-tests")."""
    skip = set()
    for parts in hyphenated(text):
        whole = word_key("".join(p.group(0) for p in parts))
        if whole in english or whole in course_words:
            fine = parts
        else:
            fine = [p for p in parts[:-1] if p.group(0).lower() in _PREFIXES]
        skip.update(p.start() for p in fine)
    return skip


def written_forms(terms, texts) -> dict[str, str]:
    """Each term (lower case) as `texts` mostly write it inside a sentence ("NASA", "Mars",
    "aliens"), in the order of `terms`, so a name is not quoted back to a student in lower case.
    A sentence's first word and an essay typed in capitals say nothing about case."""
    forms = {t: Counter() for t in terms}
    for text in texts:
        if not text or in_capitals(text):
            continue
        starts = {m.start(1) for m in _SENTENCE_START.finditer(text)}
        for m in WORD.finditer(text):
            seen = forms.get(m.group(0).lower())
            if seen is not None and m.start() not in starts:
                seen[m.group(0)] += 1
    shown = {}
    for term, seen in forms.items():
        capital = {f: c for f, c in seen.items() if not f.islower()}
        shown[term] = (max(capital, key=lambda f: (capital[f], f))
                       if sum(capital.values()) > seen[term] else term)
    return shown
