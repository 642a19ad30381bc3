"""A fitted `TfidfRidge` compiled for scoring a few essays at a time, with the same numbers.

sklearn's `transform` walks every character n-gram of an essay in Python (about 10,000 for a
400-word essay) and built a sparse matrix for one dot product: 6 ms of the scorer's 36 ms per
essay. The model is linear, so one essay's prediction is

    intercept + sum over blocks of  sum_f tfidf_f * coef_f  +  coef_len * log1p(words)

and each block's l2-normalised, sublinear TF-IDF row needs only the counts of the vocabulary's
n-grams in the essay. Character n-grams (the `char_wb` analyser: every substring of length n,
n_min <= n <= min(n_max, len), of each whitespace-split word padded with one space each side)
are hashed with numpy, counted with `np.unique` and looked up in a sorted table of the
vocabulary's hashes; word n-grams use the vectoriser's own analyser and a dict. The compiled
form is checked against sklearn in tests/worker/ml/test_tfidf_compiled.py; a vocabulary with a
64-bit hash collision (never seen; checked when compiling) keeps sklearn's path.
"""
from __future__ import annotations

from collections import Counter

import numpy as np

_MULT = np.uint64(0x9E3779B97F4A7C15)   # odd 64-bit constants: a polynomial hash modulo 2**64
_LEN_MIX = np.uint64(0xC2B2AE3D27D4EB4F)


class CompiledTfidfRidge:
    """Build with `compile_tfidf_ridge(model)`; `predict_raw(texts)` equals `model.predict_raw`."""

    def __init__(self, model, words, chars):
        self._words = words          # (analyser, {term: (idf, coef)})
        self._chars = chars          # (n_min, n_max, lowercase, sorted hashes, idf, coef)
        self._len_coef = float(model.ridge.coef_[-1])
        self._intercept = float(model.ridge.intercept_)

    def predict_raw(self, texts) -> np.ndarray:
        return np.array([self._one(t) for t in texts], dtype=np.float64)

    def _one(self, text: str) -> float:
        return (self._intercept + self._word_block(text) + self._char_block(text)
                + self._len_coef * float(np.log1p(len(text.split()))))

    def _word_block(self, text: str) -> float:
        analyse, table = self._words
        hits = [(table[t], c) for t, c in Counter(analyse(text)).items() if t in table]
        if not hits:
            return 0.0
        idf = np.array([h[0][0] for h in hits])
        coef = np.array([h[0][1] for h in hits])
        tf = 1.0 + np.log([h[1] for h in hits])
        return _normalised_dot(tf * idf, coef)

    def _char_block(self, text: str) -> float:
        n_min, n_max, lowercase, hashes, idf, coef = self._chars
        found = char_ngram_hashes(text.lower() if lowercase else text, n_min, n_max)
        if not len(found) or not len(hashes):
            return 0.0
        uniq, counts = np.unique(found, return_counts=True)
        pos = np.minimum(np.searchsorted(hashes, uniq), len(hashes) - 1)
        known = hashes[pos] == uniq
        if not known.any():
            return 0.0
        pos = pos[known]
        return _normalised_dot((1.0 + np.log(counts[known])) * idf[pos], coef[pos])


def _normalised_dot(weights: np.ndarray, coef: np.ndarray) -> float:
    norm = np.sqrt(np.dot(weights, weights))
    return float(np.dot(weights, coef) / norm) if norm > 0 else 0.0


def char_ngram_hashes(text: str, n_min: int, n_max: int) -> np.ndarray:
    """Hashes of the `char_wb` n-grams of an already lower-cased text (one per occurrence)."""
    words = text.split()
    if not words:
        return np.zeros(0, dtype=np.uint64)
    padded = "".join(f" {w} " for w in words)
    codes = _codes(padded)
    lengths = np.fromiter((len(w) + 2 for w in words), dtype=np.int64, count=len(words))
    seg_end = np.repeat(np.cumsum(lengths), lengths)   # end (exclusive) of each position's word
    starts = np.arange(len(codes))
    out = []
    rolling = np.zeros(len(codes), dtype=np.uint64)
    power = np.uint64(1)
    with np.errstate(over="ignore"):
        for n in range(1, min(n_max, len(codes)) + 1):
            # rolling[i] = hash of codes[i:i+n]; positions past the end keep garbage, masked below
            rolling[: len(codes) - n + 1] += codes[n - 1:] * power
            power = power * _MULT
            if n >= n_min:
                ok = starts + n <= seg_end
                out.append(rolling[ok] ^ (np.uint64(n) * _LEN_MIX))
    return np.concatenate(out) if out else np.zeros(0, dtype=np.uint64)


def _codes(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32).astype(np.uint64)


def _term_hashes(terms: list[str]) -> np.ndarray:
    """The same hash as `char_ngram_hashes` for each vocabulary term, computed per term length."""
    out = np.zeros(len(terms), dtype=np.uint64)
    by_length: dict[int, list[int]] = {}
    for i, t in enumerate(terms):
        by_length.setdefault(len(t), []).append(i)
    with np.errstate(over="ignore"):
        for n, idx in by_length.items():
            codes = _codes("".join(terms[i] for i in idx)).reshape(len(idx), n)
            h, power = np.zeros(len(idx), dtype=np.uint64), np.uint64(1)
            for j in range(n):
                h += codes[:, j] * power
                power = power * _MULT
            out[idx] = h ^ (np.uint64(n) * _LEN_MIX)
    return out


def compile_tfidf_ridge(model):
    """The compiled form of a fitted `TfidfRidge`, or the model itself when it cannot be compiled
    exactly (another analyser than word + char_wb, or colliding n-gram hashes)."""
    words, chars = model.words, model.chars
    if (chars.analyzer != "char_wb" or words.analyzer != "word" or chars.preprocessor is not None
            or chars.strip_accents is not None or chars.vocabulary is not None
            or any(not v.sublinear_tf or not v.use_idf or v.binary or v.norm != "l2" for v in (words, chars))):
        return model
    coef = np.asarray(model.ridge.coef_, dtype=np.float64).ravel()
    n_words = len(words.vocabulary_)
    word_coef, char_coef = coef[:n_words], coef[n_words:n_words + len(chars.vocabulary_)]
    word_table = {t: (float(words.idf_[i]), float(word_coef[i])) for t, i in words.vocabulary_.items()}
    terms = list(chars.vocabulary_.items())
    term_hashes = _term_hashes([t for t, _ in terms])
    if len(np.unique(term_hashes)) != len(terms):
        return model
    order = np.argsort(term_hashes)
    cols = np.array([i for _, i in terms], dtype=np.int64)[order]
    n_min, n_max = chars.ngram_range
    return CompiledTfidfRidge(model, (words.build_analyzer(), word_table),
                              (n_min, n_max, chars.lowercase, term_hashes[order],
                               np.asarray(chars.idf_, dtype=np.float64)[cols], char_coef[cols]))
