"""Cheap surface features of an essay (length, vocabulary, punctuation, paragraphing).

Pure Python + numpy so the scorer computes them without torch; the exported ONNX graph takes
them as its third input and the linear head weighs them together with the encoder embedding.
Length matters: long essays are truncated head+tail for the encoder, and these counts are what
still sees the whole text.
"""
from __future__ import annotations

import math
import re

import numpy as np

_WORD = re.compile(r"[A-Za-z']+")
# Tried only where a run of . ! ? starts, and the run taken whole (`++`): tried again from each
# character of a long run ending on a letter ("....a"), one essay took most of a minute while the
# worker's heartbeats waited. The same sentences as `[.!?]+(?:\s|$)`.
_SENT = re.compile(r"(?<![.!?])[.!?]++(?:\s|$)")

FEATURE_NAMES = (
    "log_chars", "log_words", "log_sentences", "log_paragraphs", "mean_word_len",
    "long_word_ratio", "type_token_ratio", "log_unique_words", "mean_sentence_words",
    "comma_rate", "lowercase_i_rate", "capitalised_sentence_ratio", "digit_ratio",
    "oov_ratio", "log_oov_words",
)


def essay_features(text: str, vocab: frozenset) -> list[float]:
    """`vocab`: the encoder's whole-word vocabulary; words outside it are mostly misspellings
    (or rare words), a strong signal of writing quality that the truncated encoder may miss."""
    text = text or ""
    words = _WORD.findall(text)
    n_words = len(words)
    sentences = [s for s in _SENT.split(text) if s.strip()]
    n_sent = max(1, len(sentences))
    paragraphs = [p for p in re.split(r"\n\s*\n|\n", text) if p.strip()]
    lower = [w.lower() for w in words]
    unique = len(set(lower))
    lens = [len(w) for w in words] or [0]
    oov = sum(1 for w in lower if len(w) > 2 and w.strip("'") not in vocab)
    capitalised = sum(1 for s in sentences if s.strip()[:1].isupper())
    return [
        math.log1p(len(text)),
        math.log1p(n_words),
        math.log1p(len(sentences)),
        math.log1p(len(paragraphs)),
        float(np.mean(lens)),
        sum(1 for n in lens if n >= 7) / max(1, n_words),
        # Root TTR is far less length-dependent than plain TTR.
        unique / math.sqrt(max(1, n_words)),
        math.log1p(unique),
        n_words / n_sent,
        text.count(",") / max(1, n_words),
        sum(1 for w in words if w == "i") / max(1, n_words),
        capitalised / n_sent,
        sum(ch.isdigit() for ch in text) / max(1, len(text)),
        oov / max(1, n_words),
        math.log1p(oov),
    ]


def feature_matrix(texts, vocab: frozenset) -> np.ndarray:
    return np.asarray([essay_features(t, vocab) for t in texts], dtype=np.float32).reshape(len(texts), len(FEATURE_NAMES))


def features_for(model_dir, texts) -> np.ndarray:
    """Features with the vocabulary of the tokenizer in `model_dir` (base model or model version)."""
    from worker.ml.tokens import load_vocab

    return feature_matrix(list(texts), load_vocab(str(model_dir)))
