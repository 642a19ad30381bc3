"""Is an essay written in English? Decided from its words, with no language model.

An essay mostly in another alphabet (Cyrillic, Chinese...) is easy to tell. One in Spanish,
French or German uses the same letters as English and was told it missed the prompt, with its
words listed as misspellings. English prose, however weakly spelt, is mostly function words and
listed words; another language's prose is not. Both shares must be low, so neither a misspelt
essay (it keeps "the", "and", "I") nor a list of English terms (no function words) is taken for
another language.

Measured on every PERSUADE training essay (9,600) and every ELLIPSE essay (2,417, English
learners): function words are at least 29.7% of an essay's words (1st percentile 41%) and
listed words at least 76.9% (1st percentile 89%), and 0 essays are flagged, even on their first
10 words only. Paragraphs in Spanish (with and without accents), French, Portuguese, German and
Italian: function words at most 12% (Portuguese "a", "as", "no"), listed words 21-44%.
"""
from __future__ import annotations

import re
import unicodedata

from worker.feedback.spelling import english_words, word_key
from worker.feedback.textstats import STOPWORDS

# A word whose first letter is a Latin letter: A-Z, Latin-1 accented letters, Latin Extended-A/B
# and the Vietnamese block (the letters, not the × and ÷ signs among them: `WORD` has letters only).
_LATIN = re.compile(r"[A-Za-z\u00c0-\u024f\u1e00-\u1eff]")
LATIN_SHARE = 0.5        # fewer Latin-letter words than this share: another alphabet
MIN_WORDS = 10           # fewer: a stub, whose shares say nothing
FUNCTION_SHARE = 0.2     # English essays: >= 0.297; the other languages' paragraphs: <= 0.12
LISTED_SHARE = 0.6       # English essays: >= 0.769; the other languages' paragraphs: <= 0.44
# Words of any language have vowels: 37-48% of the letters of the paragraphs above (Vietnamese
# and Tagalog too). Keyboard mash has few ("asdf jkl qwer uiop": 26%) and is no language: the
# off-topic check answers it.
VOWEL_SHARE = 0.33


def other_language(tokens: list[str]) -> dict | None:
    """Evidence that the words `tokens` (`textstats.words`) are not English, or None."""
    if not tokens:
        return None
    latin = [t for t in tokens if _LATIN.match(t)]
    if len(latin) < LATIN_SHARE * len(tokens):
        return {"words": len(tokens), "latin_words": len(latin)}
    if len(latin) < MIN_WORDS:
        return None
    keys = [word_key(t) for t in latin]
    english = english_words()
    function = sum(k in STOPWORDS for k in keys) / len(keys)
    listed = sum(k in english for k in keys) / len(keys)
    if function >= FUNCTION_SHARE or listed >= LISTED_SHARE or _vowels(keys) < VOWEL_SHARE:
        return None
    return {"words": len(tokens), "latin_words": len(latin),
            "function_word_share": round(function, 3), "english_word_share": round(listed, 3)}


def _vowels(keys: list[str]) -> float:
    """Share of vowels among the letters, accents set aside ("é" is an "e")."""
    letters = [c for c in unicodedata.normalize("NFD", "".join(keys)) if c.isalpha()]
    return sum(c in "aeiouy" for c in letters) / max(1, len(letters))
