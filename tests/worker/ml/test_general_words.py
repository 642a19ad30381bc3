"""The general model keeps the English word list its spelling columns were fitted on: a new
pyspellchecker release (another word list) must not change how a saved model scores."""
from __future__ import annotations

import numpy as np

from worker.ml import stylefeatures
from worker.ml.general import GeneralModel, fit_general
from worker.ml.stylefeatures import STYLE_NAMES, style_matrix
from worker.ml.tokens import load_vocab


def _fitted(persuade, base_model, tmp_path):
    train = persuade.splits["train"]
    vocab = load_vocab(base_model)
    texts = train.texts[:600]      # with 200 essays the trees never split on the spelling columns
    y = (np.asarray(train.scores[:600], dtype=float) - persuade.lo) / (persuade.hi - persuade.lo)
    general = fit_general(style_matrix(texts, vocab), y, {"prompts": ["test"]})
    general.save(tmp_path)
    return GeneralModel.load(tmp_path)


def test_a_saved_model_scores_with_the_word_list_it_was_fitted_on(persuade, base_model, tmp_path, monkeypatch):
    general = _fitted(persuade, base_model, tmp_path)
    essays = persuade.splits["validation"].texts[:40]
    before = general.predict(base_model, essays)
    assert general.meta["english_words"]["n"] == len(general.words) > 100_000
    spelling_columns = [STYLE_NAMES.index("misspelt_ratio"), STYLE_NAMES.index("log_misspelt")]
    assert np.isin(general.trees.feature[~general.trees.leaf], spelling_columns).any()

    # Another release of the word list: a tenth of the words gone (as if misspelt everywhere).
    live = stylefeatures.english_words()
    smaller = frozenset(w for i, w in enumerate(sorted(live)) if i % 10)
    monkeypatch.setattr(stylefeatures, "english_words", lambda: smaller)
    vocab = load_vocab(base_model)
    assert not np.array_equal(style_matrix(essays, vocab), style_matrix(essays, vocab, english=live))

    reloaded = GeneralModel.load(tmp_path)
    np.testing.assert_array_equal(reloaded.predict(base_model, essays), before)


def test_a_model_pickled_before_the_list_was_stored_reads_the_live_list(persuade, base_model, tmp_path):
    general = _fitted(persuade, base_model, tmp_path)
    essays = persuade.splits["validation"].texts[:10]
    del general.words            # as unpickled from an older release: the field is not in __dict__
    general.save(tmp_path)
    older = GeneralModel.load(tmp_path)
    assert older.words is None
    np.testing.assert_array_equal(older.predict(base_model, essays),
                                  older.trees.predict(style_matrix(essays, load_vocab(base_model))))
