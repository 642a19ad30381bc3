"""Prompt-independent writing features for the general essay model (`general.py`).

What a rater rewards on any prompt: length and development, spelling, sentence control (run-ons,
fragments), paragraphing, vocabulary range, connectives, punctuation and capitalisation habits.
No topic words, so a model fitted on other prompts' essays transfers to a new assignment.
The first columns are `textfeatures.FEATURE_NAMES`; pure Python + numpy (scorer-side, no torch).
"""
from __future__ import annotations

import math
import re

import numpy as np

from worker.feedback.spelling import english_words
from worker.ml.textfeatures import FEATURE_NAMES, feature_matrix

_WORD = re.compile(r"[A-Za-z']+")
# As `textfeatures._SENT`: linear on a long run of . ! ? that ends on a letter.
_SENT = re.compile(r"(?<![.!?])[.!?]++(?:\s|$)")
_PARA = re.compile(r"\n\s*\n|\n")
_NO_SPACE = re.compile(r"[a-z][.,!?][A-Za-z]")
_LOWER_I = re.compile(r"\bi\b")
_CONNECTIVES = tuple(f" {c} " for c in (
    "however", "therefore", "furthermore", "moreover", "in addition", "for example", "for instance",
    "in conclusion", "on the other hand", "although", "because", "consequently", "nevertheless",
    "additionally", "finally", "first", "second", "third", "also", "thus", "overall", "in fact",
    "such as", "while", "whereas", "since", "unless", "despite", "instead", "similarly",
    "as a result", "in contrast", "specifically", "ultimately"))
_FUNCTION_WORDS = frozenset(
    "the a an and or but of to in on at for with is are was were be been it this that these those i you "
    "he she we they my your his her our their not no so as if than then there here what which who whom".split())

STYLE_NAMES = FEATURE_NAMES + (
    "misspelt_ratio", "log_misspelt", "sentence_words_sd", "longest_sentence", "runon_ratio",
    "fragment_ratio", "paragraph_words_mean", "paragraph_words_sd", "single_paragraph", "very_long_word_ratio",
    "word_len_sd", "semicolon_rate", "colon_rate", "question_rate", "exclamation_rate", "quote_rate",
    "parenthesis_rate", "apostrophe_rate", "connective_rate", "log_connectives", "repeated_bigram_ratio",
    "function_word_ratio", "missing_space_rate", "lowercase_sentence_ratio", "lowercase_i_count_rate",
    "capitalised_midword_rate", "log_long_types", "opening_type_ratio",
)


def style_features(text: str, vocab: frozenset, surface: list[float],
                   english: frozenset | None = None) -> list[float]:
    """`surface`: this text's row of `textfeatures.feature_matrix`. `english`: the word list the
    spelling columns count against; a fitted model passes the one it was trained with
    (`GeneralModel.words`), so a new word list never changes an existing model's inputs."""
    text = text or ""
    words = _WORD.findall(text)
    lower = [w.lower() for w in words]
    n = max(1, len(words))
    sentences = [s for s in _SENT.split(text) if s.strip()]
    sent_len = np.array([len(_WORD.findall(s)) for s in sentences] or [0])
    para_len = np.array([len(_WORD.findall(p)) for p in _PARA.split(text) if p.strip()] or [0])
    english = english_words() if english is None else english
    misspelt = sum(1 for w in lower if w.strip("'") and w.strip("'") not in english and not w.endswith("'s"))
    word_len = np.array([len(w) for w in words] or [0])
    joined = " " + " ".join(lower) + " "
    connectives = sum(joined.count(c) for c in _CONNECTIVES)
    bigrams = list(zip(lower, lower[1:]))
    opening = lower[:200]
    return list(surface) + [
        misspelt / n, math.log1p(misspelt),
        float(sent_len.std()), float(sent_len.max()), float(np.mean(sent_len > 35)), float(np.mean(sent_len < 6)),
        float(para_len.mean()), float(para_len.std()), float(len(para_len) == 1),
        float(np.mean(word_len >= 9)), float(word_len.std()),
        text.count(";") / n, text.count(":") / n, text.count("?") / n, text.count("!") / n,
        (text.count('"') + text.count("\u201c")) / n, text.count("(") / n, text.count("'") / n,
        connectives / n, math.log1p(connectives),
        1 - len(set(bigrams)) / max(1, len(bigrams)),
        sum(1 for w in lower if w in _FUNCTION_WORDS) / n,
        len(_NO_SPACE.findall(text)) / n,
        sum(1 for s in sentences if s.strip()[:1].islower()) / max(1, len(sentences)),
        len(_LOWER_I.findall(text)) / n,
        sum(1 for w in words[1:] if w[:1].isupper()) / n,
        math.log1p(len({w for w in lower if len(w) >= 8})),
        len(set(opening)) / max(1, len(opening)),
    ]


def style_matrix(texts, vocab: frozenset, surface: np.ndarray | None = None,
                 english: frozenset | None = None) -> np.ndarray:
    """`surface`: the texts' `textfeatures.feature_matrix` rows when the caller has them. The
    surface columns always come from that (float32) matrix, as the trainer and the scorer see
    them: pretraining on float64 values made the trees take another branch for 12% of essays at
    scoring time (up to 0.027 on the 0..1 scale)."""
    texts = list(texts)
    if surface is None:
        surface = feature_matrix(texts, vocab)
    rows = [style_features(t, vocab, surface[i].tolist(), english) for i, t in enumerate(texts)]
    return np.asarray(rows, dtype=np.float64).reshape(len(rows), len(STYLE_NAMES))
