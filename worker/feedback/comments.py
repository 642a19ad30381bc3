"""Cut a teacher's comment into sentences that can be reused for another student's essay.

A sentence is kept verbatim or dropped, never rewritten, so whatever reaches a student is
exactly what the teacher wrote. Dropped: greetings and sign-offs, bare praise ("Great job!"),
sentences naming someone (a capitalised word the course's essays and prompt never use), and
sentences tied to the commented essay: quoted text, "you wrote ...", "your second paragraph",
or a five-word run copied from that essay.
"""
from __future__ import annotations

import re

from worker.feedback.textstats import split_sentences, words

MIN_WORDS = 4
_GREETING = re.compile(
    r"^\W*(hi|hello|hey|dear|thanks|thank you|see me|regards|best|cheers|sincerely|love)\b", re.I)
# "Hi Sam," / "Dear Sam -" opening a comment: cut off, the rest of the comment stays verbatim.
_OPENING = re.compile(r"^\s*(hi|hello|hey|dear|good (morning|afternoon))\b[^,!.:\n-]{0,40}[,!.:\n-]\s*",
                      re.I)
_BARE_PRAISE = re.compile(
    r"^\W*((very |really )?(great|good|nice|excellent|awesome|wonderful|super|fantastic)"
    r"( job| work| effort| essay)?|well done|keep (it )?up( the good work)?|way to go)\W*$", re.I)
_QUOTED = re.compile(r"[\"\u201c\u201d\u2018]|(^|\s)'\w[^']*\w'")
_YOU_WROTE = re.compile(
    r"\byou\s+(wrote|said|say|state|stated|mention|mentioned|claim|claimed|called|described)\b"
    r"|\b(your|the)\s+(first|second|third|fourth|fifth|last|final|opening|closing|\d+(st|nd|rd|th))"
    r"\s+(paragraph|sentence|line|point|example)\b", re.I)
_TITLE = re.compile(r"\b(Mr|Mrs|Ms|Miss|Dr|Mx)\.?\s+[A-Z]")


def _names(sentence: str, known: frozenset[str]) -> bool:
    """A capitalised word the course never uses is taken to be a person's name."""
    tokens = re.findall(r"[A-Za-z][A-Za-z'\-]*", sentence)
    for i, tok in enumerate(tokens):
        if not tok[0].isupper() or tok == "I" or tok.isupper():
            continue
        if i == 0 and not re.match(rf"^\W*{re.escape(tok)}\s*,", sentence):
            continue  # sentence-initial capital, unless it is a vocative "Maria, ..."
        low = tok.lower()
        base = low[:-2] if low.endswith("'s") else low
        if base not in known:
            return True
    return False


def _ngrams(tokens: list[str], n: int = 5) -> set[tuple]:
    return {tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1)}


def reusable_sentences(comment: str, essay_text: str, known_words: frozenset[str],
                       prompt_ngrams: frozenset = frozenset()) -> list[str]:
    """Sentences of `comment` fit to show on a different essay, verbatim and in order."""
    if not comment or not comment.strip():
        return []
    essay_grams = _ngrams([w.lower() for w in words(essay_text)])
    kept = []
    for sentence in split_sentences(_OPENING.sub("", comment, count=1)):
        tokens = [w.lower() for w in words(sentence)]
        if len(tokens) < MIN_WORDS:
            continue
        if (_GREETING.search(sentence) or _BARE_PRAISE.search(sentence) or _QUOTED.search(sentence)
                or _YOU_WROTE.search(sentence) or _TITLE.search(sentence)
                or _names(sentence, known_words)):
            continue
        if (_ngrams(tokens) - prompt_ngrams) & essay_grams:
            continue
        kept.append(sentence.strip())
    return kept


def prompt_ngram_set(prompt: str) -> frozenset:
    return frozenset(_ngrams([w.lower() for w in words(prompt)]))
