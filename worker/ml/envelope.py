"""The kind of essay a course model learned from, and why a new essay falls outside it.

A regression head extrapolates without warning: a 100,000-character run of one letter scored 5 of
6 with confidence 0.79 (its length features lie far beyond anything graded), and the confidence of
`rounding.confidence` only measures the distance to a cut point. So training records the range of
a few surface features over the course's graded essays (`fit`), widened by `MARGIN` times their
10-90% spread, and the scorer names every feature of a new essay outside that range (`reasons`).
Such an essay gets confidence 0 and always waits for the teacher, whatever the auto-release
threshold (`worker.handlers.scoring`). The same goes for an essay that uses almost none of the
words the course's essays share, i.e. one written for another assignment (`topic.py`).

Measured on the PERSUADE essays (12 prompts, courses of N graded train essays, their validation and
test essays checked): real essays flagged 1.3% at N=50 (at most 4% on one prompt) and 0.4% at
N=300; a one-word, keyboard-mash, lorem-ipsum, digits-only, source-code, unpunctuated or
one-sentence-repeated "essay" and "I agree." were flagged on every prompt (the repeated sentence on
11 of 12 at N=300). In short-answer courses made of the first 20-40 words of those essays, "good"
written 25 times was flagged on every prompt and 1.0% of the real answers were (under 30 words as
often as over). docs/models.md.
"""
from __future__ import annotations

import math

import numpy as np

from worker.ml import topic
from worker.ml.textfeatures import FEATURE_NAMES

MARGIN = 1.0
# Below this many words, measures of how words repeat, of sentences and of topic say little: "I
# agree." was told it "repeats the same words far more than the graded essays" and "may have been
# written for another assignment". So when its length already sets such an essay apart, the length
# is the reason given. Where the course's own essays are as short (short answers), the length says
# nothing and these checks compare like with like: dropping them there let "good" written 25 times
# through. Per-word measures always count (a 100,000-letter "word" is worth naming).
FEW_WORDS = 30
SHAPE = ("type_token_ratio", "mean_sentence_words")

# feature -> (checked sides, how to show a value, reason when low, reason when high)
CHECKS = {
    "log_words": ("both", lambda v: f"{math.expm1(v):.0f} word" + ("" if round(math.expm1(v)) == 1 else "s"),
                  "much shorter than the essays the model learned from",
                  "much longer than the essays the model learned from"),
    "mean_word_len": ("both", lambda v: f"{v:.1f} letters per word",
                      "its words are far shorter on average than in the graded essays",
                      "its words are far longer on average than in the graded essays"),
    "type_token_ratio": ("both", lambda v: f"vocabulary index {v:.1f}",
                         "it repeats the same words far more than the graded essays",
                         "its vocabulary varies far more than in the graded essays, as in a word list or random text"),
    "mean_sentence_words": ("both", lambda v: f"{v:.0f} words per sentence",
                            "its sentences are far shorter than in the graded essays",
                            "its sentences are far longer than in the graded essays, as when punctuation is missing"),
    "oov_ratio": ("high", lambda v: f"{v:.0%} of its words",
                  "",
                  "many of its words are not English words the model knows, as with misspellings, another "
                  "language or random text"),
}


def fit(surface: np.ndarray, texts=None) -> dict:
    """The envelope of the training essays' surface features (`textfeatures.FEATURE_NAMES` order)
    and, given their texts, the course's anchor words (`topic.fit`)."""
    surface = np.asarray(surface, dtype=np.float64)
    names = list(CHECKS)
    cols = surface[:, [FEATURE_NAMES.index(n) for n in names]]
    spread = np.quantile(cols, 0.9, axis=0) - np.quantile(cols, 0.1, axis=0)
    return {"features": names, "margin": MARGIN,
            "lo": [float(x) for x in cols.min(0) - MARGIN * spread],
            "hi": [float(x) for x in cols.max(0) + MARGIN * spread],
            "topic": topic.fit(texts) if texts is not None else None}


def reasons(envelope: dict | None, surface_row, text: str | None = None) -> list[str]:
    """Plain-language reasons the essay (`surface_row`, and its `text` for the topic check) lies
    outside `envelope` (none for an envelope-less model trained by an older release)."""
    if not envelope:
        return []
    found = {}
    for name, lo, hi in zip(envelope["features"], envelope["lo"], envelope["hi"]):
        if name not in CHECKS:
            continue
        sides, show, when_low, when_high = CHECKS[name]
        value = float(surface_row[FEATURE_NAMES.index(name)])
        if value < lo and sides == "both":
            found[name] = f"{when_low} ({show(value)})"
        elif value > hi:
            found[name] = f"{when_high} ({show(value)})"
    words = math.expm1(float(surface_row[FEATURE_NAMES.index("log_words")]))
    length_says_it = words < FEW_WORDS and "log_words" in found
    off_topic = topic.reason(envelope.get("topic"), text) if text is not None and not length_says_it else None
    return [off_topic] * bool(off_topic) + [r for name, r in found.items()
                                            if not (length_says_it and name in SHAPE)]
