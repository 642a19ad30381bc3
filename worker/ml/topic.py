"""Is a new essay about this assignment's topic? The course's anchor words, and their absence.

A course model scores how an essay is written, not what it is about: an essay written for another
assignment (the wrong file handed in) gets a confident score. Training therefore picks the
assignment's **anchor words** (`fit`): the `ANCHORS` words that the most graded essays use far more
often than English text does (document share x log-ratio to the English frequency in `wordfreq`),
e.g. "landform, mars, cydonia, alien, face, mesa" or "extracurricular, activities, participate".
An essay that uses fewer of them than `NEED` (lowered to what the 2% least on-topic graded essays
reach) is named as unusual (`reason`), gets confidence 0 and waits for the teacher.

Tuned on PERSUADE validation essays (12 prompts, courses of 30-300 graded train essays): 0.3% of
a course's own essays flagged, 70-79% of the other prompts' essays caught (all of them for distinct
topics such as the Face on Mars or the Electoral College; about half between the school-life
prompts, which share words like "students" and "activities"). docs/models.md has the test figures.
Only the anchor words are stored in the model (`meta.json`); scoring needs no word list.
"""
from __future__ import annotations

import logging
import math
import re
from collections import Counter

import numpy as np

ANCHORS = 10          # anchor words kept per course
NEED = 2              # an essay should use at least this many of them ...
QUANTILE = 0.02       # ... unless 2% of the course's own graded essays use fewer
MIN_LOG_RATIO = 3.0   # an anchor is at least e^3 = 20x more frequent in the course than in English
MIN_ESSAYS = 2        # ... and used by at least two graded essays
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")
_UNSEEN = 1e-8        # English frequency of a word wordfreq does not list
log = logging.getLogger(__name__)


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def fit(texts, language: str = "en") -> dict | None:
    """The course's anchor words and how many an essay needs; None when the graded essays share
    no distinctive words (then the check is off for this course)."""
    try:
        from wordfreq import word_frequency   # training only: the scorer never loads the word list
    except ImportError:   # a bare GPU host running scripts/gpu_check.sh; the product depends on it
        log.warning("wordfreq is not installed: this model has no topic check")
        return None
    texts = list(texts)
    counts, essays, used = Counter(), Counter(), []
    for text in texts:
        tokens = words(text)
        counts.update(tokens)
        used.append(set(tokens))
        essays.update(used[-1])
    total = sum(counts.values()) or 1
    ranked = []
    for word, n in counts.items():
        if len(word) < 3 or essays[word] < MIN_ESSAYS:
            continue
        log_ratio = math.log((n / total) / max(word_frequency(word, language), _UNSEEN))
        if log_ratio > MIN_LOG_RATIO:
            ranked.append((essays[word] / len(texts) * log_ratio, word))
    anchors = [w for _, w in sorted(ranked, reverse=True)[:ANCHORS]]
    if len(anchors) < ANCHORS:
        return None
    need = min(NEED, int(np.quantile([len(u.intersection(anchors)) for u in used], QUANTILE)))
    return {"anchors": anchors, "need": need} if need > 0 else None


def coverage(anchors, text: str) -> int:
    """How many of the anchor words the essay uses."""
    return len(set(words(text)).intersection(anchors))


def reason(topic: dict | None, text: str) -> str | None:
    """Why `text` seems to be about something else, or None."""
    if not topic:
        return None
    used = coverage(topic["anchors"], text)
    if used >= topic["need"]:
        return None
    examples = ", ".join(f"“{w}”" for w in topic["anchors"][:4])
    return (f"it uses {'none' if used == 0 else 'almost none'} of the words this assignment's graded essays "
            f"share (such as {examples}): it may have been written for another assignment")
