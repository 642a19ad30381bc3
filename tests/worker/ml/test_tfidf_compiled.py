"""The compiled TF-IDF ridge gives sklearn's numbers on real and odd essays, and the lexical
column survives a pickle round trip (the compiled tables are rebuilt, not stored)."""
from __future__ import annotations

import pickle

import numpy as np
import pytest

from worker.ml.baseline import TfidfRidge
from worker.ml.lexical import Lexical
from worker.ml.tfidf_compiled import CompiledTfidfRidge, char_ngram_hashes, compile_tfidf_ridge

ODD = ["", "   \n\t ", "a", "I", "Ünïcödé façade — naïve café 😀 e\u0301 ΣΊΣΥΦΟΣ",
       "word\x00word\ud800 tab\tnew\nline\xa0nbsp\u2003em-space", "x" * 50_000,
       "short. " * 3000, "CAPITALS SHOUTED LOUDLY and lower"]


@pytest.fixture(scope="module")
def fitted(persuade):
    train = persuade.splits["train"]
    return TfidfRidge(persuade.lo, persuade.hi).fit(train.texts[:120], train.scores[:120])


def test_same_predictions_as_sklearn(fitted, persuade):
    compiled = compile_tfidf_ridge(fitted)
    assert isinstance(compiled, CompiledTfidfRidge)
    texts = persuade.splits["validation"].texts[:60] + ODD
    expected, got = fitted.predict_raw(texts), compiled.predict_raw(texts)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-9)
    assert np.ptp(got[:60]) > 0.5  # real essays get different predictions: the check can fail


def test_char_ngrams_match_sklearn_counts(fitted):
    text = "The cat sat on a mat, the  cat!"
    grams = fitted.chars.build_analyzer()(text)
    assert len(char_ngram_hashes(text.lower(), 2, 5)) == len(grams)
    assert len(np.unique(char_ngram_hashes(text.lower(), 2, 5))) == len(set(grams))


def test_other_analysers_keep_sklearns_path(persuade):
    model = TfidfRidge(persuade.lo, persuade.hi)
    model.chars.set_params(analyzer="char")
    train = persuade.splits["train"]
    model.fit(train.texts[:40], train.scores[:40])
    assert compile_tfidf_ridge(model) is model


def test_lexical_pickle_round_trip(persuade):
    train, val = persuade.splits["train"], persuade.splits["validation"]
    lexical = Lexical(persuade.lo, persuade.hi).fit(train.texts[:80], train.scores[:80])
    before = lexical.predict(val.texts[:20])
    blob = pickle.dumps(lexical)
    assert b"CompiledTfidfRidge" not in blob
    np.testing.assert_allclose(pickle.loads(blob).predict(val.texts[:20]), before, atol=1e-12)
