"""Per-course cache of retrieval indexes, keyed by the course's grading state.

The key is (assignment id, the examples' own cache key: count, last grade id and time, when they
come from `load_graded_examples`) or else a content fingerprint, plus the prompt, scale,
embeddings and the course roster's names; a new or changed grade, or a new course member,
therefore builds a fresh index and a stale one is never served. Small LRU: a worker serves few
courses at a time.
"""
from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict

import numpy as np

from worker.feedback.records import AssignmentView
from worker.feedback.retrieval import CourseIndex

MAX_COURSES = 8
_cache: OrderedDict = OrderedDict()
_lock = threading.Lock()
stats = {"builds": 0, "hits": 0}


def fingerprint(examples) -> str:
    """Content hash of the examples (one pass, one encode: this runs on every call)."""
    blob = "\x1d".join(
        f"{ex.text}\x1e{float(ex.score)!r}\x1e{ex.comment}\x1e{ex.outside_roster}\x1e"
        f"{sorted((str(k), v) for k, v in (ex.trait_scores or {}).items())!r}" for ex in examples)
    return hashlib.blake2b(blob.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


def _key(examples, assignment: AssignmentView, embeddings) -> tuple:
    own = getattr(examples, "cache_key", None)
    emb = (None if embeddings is None
           else hashlib.blake2b(np.ascontiguousarray(embeddings, dtype=np.float32).tobytes(),
                                digest_size=16).hexdigest())
    # The roster's names decide which comment sentences the index may reuse: a student who joins
    # the course after the index was built must be guarded at once, not after the next grade.
    names = getattr(examples, "names", None) or ()
    roster = hashlib.blake2b("\x1e".join(sorted(names)).encode("utf-8", "surrogatepass"), digest_size=8).hexdigest()
    return (assignment.id, own if own is not None else fingerprint(examples), assignment.prompt,
            assignment.score_min, assignment.score_max, emb, roster)


def course_index(examples, assignment: AssignmentView, embeddings=None) -> CourseIndex:
    key = _key(examples, assignment, embeddings)
    with _lock:
        if key in _cache:
            _cache.move_to_end(key)
            stats["hits"] += 1
            return _cache[key]
    # `GradedExamples` as it is: a copy into a plain list would lose the roster's names.
    index = CourseIndex(examples if isinstance(examples, list) else list(examples), assignment, embeddings)
    with _lock:
        _cache[key] = index
        stats["builds"] += 1
        while len(_cache) > MAX_COURSES:
            _cache.popitem(last=False)
    return index


def clear() -> None:
    with _lock:
        _cache.clear()
