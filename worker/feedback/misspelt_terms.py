"""A prompt's key terms as a weak speller writes them: "alieans" and "ailens" are "aliens".

The off-topic check (`compose`) counts the prompt's key terms an essay uses. Counted only as
spelt, the weakest writers' on-topic essays ("not alieans", "there are ailens") used one term and
were told they missed the prompt. A misspelt word (`spelling.misspelled`: no English or course
word, so "fact" is never "face") counts as the key term it is one edit from, two for a term of
`LONG` letters or more (a transposition is one edit).

Linear in the essay: each unknown word up to the longest term's length is cut into its
deletions (`_deletions`, a few dozen strings) and looked up among the terms' deletions, and
only a word sharing one is measured against that term.
"""
from __future__ import annotations

LONG = 8


def _allowed(term: str) -> int:
    return 2 if len(term) >= LONG else 1


def _deletions(word: str, most: int) -> set[str]:
    """`word` with up to `most` letters left out (itself included)."""
    found = edge = {word}
    for _ in range(most):
        edge = {w[:i] + w[i + 1:] for w in edge for i in range(len(w))}
        found = found | edge
    return found


def _edits(a: str, b: str) -> int:
    """Edits from `a` to `b` (insert, delete, substitute, swap two neighbours)."""
    prev2, prev = None, list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        row = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            row[j] = min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] != b[j - 1]))
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                row[j] = min(row[j], prev2[j - 2] + 1)
        prev2, prev = prev, row
    return prev[-1]


def misspelt_terms(unknown_words, key_terms) -> dict[str, str]:
    """{misspelt word (lower case): the key term it stands for} for the words of `unknown_words`
    within `_allowed` edits of one of `key_terms`."""
    keys: dict[str, set[str]] = {}
    for term in key_terms:
        for d in _deletions(term, _allowed(term)):
            keys.setdefault(d, set()).add(term)
    longest = max((len(t) for t in key_terms), default=0) + 2
    found = {}
    for word in {w.lower() for w in unknown_words}:
        if len(word) > longest or word in key_terms:
            continue
        near = set().union(*(keys.get(d, ()) for d in _deletions(word, 2 if len(word) >= LONG - 2 else 1)))
        term = min((t for t in near if _edits(word, t) <= _allowed(t)), key=lambda t: (_edits(word, t), t),
                   default=None)
        if term:
            found[word] = term
    return found
