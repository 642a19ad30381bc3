"""Tokenisation shared by training and scoring (HF `tokenizers`, no torch).

Long essays are cut deliberately, not silently: an essay longer than `max_length` tokens keeps
its first `head` tokens (introduction, thesis) and its last `max_length - 2 - head` tokens
(conclusion), the middle is dropped. The surface features in `textfeatures` still cover the whole
essay (length, vocabulary), so the head knows how long the essay really was.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
from tokenizers import Tokenizer

DEFAULT_MAX_LENGTH = 512
DEFAULT_HEAD = 128


@lru_cache(maxsize=8)
def load_tokenizer(model_dir: str) -> Tokenizer:
    tok = Tokenizer.from_file(str(Path(model_dir) / "tokenizer.json"))
    tok.no_truncation()
    tok.no_padding()
    return tok


@lru_cache(maxsize=8)
def load_vocab(model_dir: str) -> frozenset:
    """Whole words of the WordPiece vocabulary (no ## pieces, no [special] tokens)."""
    return frozenset(w for w in load_tokenizer(str(model_dir)).get_vocab()
                     if w.isalpha() or "'" in w)


def head_tail_ids(model_dir: str, texts, max_length: int = DEFAULT_MAX_LENGTH,
                  head: int = DEFAULT_HEAD) -> list[list[int]]:
    """Token ids per text with [CLS]/[SEP], long texts cut head + tail."""
    tok = load_tokenizer(str(model_dir))
    out = []
    for enc in tok.encode_batch([t if t.strip() else "." for t in texts]):
        ids = enc.ids
        if len(ids) > max_length:
            body = ids[1:-1]
            keep_tail = max_length - 2 - head
            ids = [ids[0]] + body[:head] + body[len(body) - keep_tail:] + [ids[-1]]
        out.append(ids)
    return out


def pad_batch(batch: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
    """Dynamic padding to the longest sequence of the batch (pad id 0)."""
    width = max(len(ids) for ids in batch)
    input_ids = np.zeros((len(batch), width), dtype=np.int64)
    mask = np.zeros((len(batch), width), dtype=np.int64)
    for i, ids in enumerate(batch):
        input_ids[i, : len(ids)] = ids
        mask[i, : len(ids)] = 1
    return input_ids, mask


def length_sorted_batches(lengths, batch_size: int) -> list[list[int]]:
    """Index batches of similar length, so padding (and wasted compute) stays small."""
    order = np.argsort(np.asarray(lengths), kind="stable")
    return [order[i:i + batch_size].tolist() for i in range(0, len(order), batch_size)]
