"""The scoring side of a hostile essay at the size limit: every essay handed in is scored, and the
features the graph and the trees take (`headinputs.head_features`: surface, lexical, general) and
the envelope's check of them are computed in plain Python while the worker's heartbeats wait for
the GIL. A run of full stops ending on a letter took most of a minute in the sentence count."""
from __future__ import annotations

import time

import numpy as np
import pytest

from tests.hostile_texts import HOSTILE
from worker.ml import envelope
from worker.ml.general import fit_general
from worker.ml.headinputs import head_features
from worker.ml.lexical import Lexical
from worker.ml.stylefeatures import style_matrix
from worker.ml.textfeatures import feature_matrix
from worker.ml.tokens import load_vocab


@pytest.fixture(scope="module")
def course_models(train_examples, base_model):
    texts, scores = train_examples.texts, np.asarray(train_examples.scores, dtype=float)
    lo, hi = train_examples.score_min, train_examples.score_max
    vocab = load_vocab(base_model)
    lexical = Lexical(lo, hi).fit(texts, scores)
    general = fit_general(style_matrix(texts, vocab), (scores - lo) / (hi - lo), {"prompts": ["test"]})
    return lexical, general, envelope.fit(feature_matrix(texts, vocab), texts)


@pytest.mark.parametrize("essay", HOSTILE.values(), ids=HOSTILE.keys())
def test_the_scoring_features_of_a_hostile_essay_at_the_size_limit_take_seconds(essay, course_models, base_model):
    lexical, general, fitted = course_models
    load_vocab(base_model)   # the tokenizer's load is not the essay's
    started = time.monotonic()
    row = head_features(base_model, [essay], lexical, general)[0]
    envelope.reasons(fitted, row, essay)
    # Linear: well under a second. Loose so a loaded CI machine cannot fail it.
    assert time.monotonic() - started < 15
