"""The `features` input of the scoring graph, computed outside it (numpy/sklearn, no torch):
the surface features of `textfeatures`, then the stacked columns of the course model: the
lexical TF-IDF prediction (`lexical.py`) and the general essay model's prediction
(`general.py`), each present only when the model was trained with it. Training, the torch
parity check and the onnxruntime scorer all build it here, so the columns always line up.
"""
from __future__ import annotations

import numpy as np

from worker.ml.textfeatures import features_for


def head_features(vocab_dir, texts, lexical=None, general=None) -> np.ndarray:
    texts = list(texts)
    surface = features_for(vocab_dir, texts)
    columns = [surface]
    if lexical is not None:
        columns.append(lexical.predict(texts)[:, None])
    if general is not None:
        columns.append(general.predict(vocab_dir, texts, surface)[:, None])
    return np.hstack(columns).astype(np.float32)
