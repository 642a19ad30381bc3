"""The course's retrieval index: essay similarity, reusable comment sentences, per-essay counts.

Built once per course state (see `cache`) from the graded examples; querying it for a new
essay costs one TF-IDF transform and a sparse dot product. Similarity is character n-gram
TF-IDF (robust to misspellings, no model needed) or, when the caller passes them, cosine over
the course model's embeddings.
"""
from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

import numpy as np

from worker.feedback.comments import course_proper_nouns, prompt_ngram_set, reusable_sentences
from worker.feedback.records import AssignmentView, GradedExample
from worker.feedback.spelling import course_vocabulary, written_forms
from worker.feedback.textstats import EssayStats, content_terms, measure, words

# Words that tell what a comment sentence is about; matched as prefixes of its words.
ASPECTS: dict[str, tuple[str, ...]] = {
    "conventions": ("spell", "grammar", "punctuat", "capital", "proofread", "mechanic",
                    "convention", "typo", "comma", "apostroph"),
    "organisation": ("paragraph", "organi", "structur", "transition", "introduc", "conclu",
                     "flow", "order"),
    "development": ("develop", "detail", "elaborat", "explain", "length", "longer", "short",
                    "expand", "depth", "reasons"),
    "evidence": ("evidence", "quot", "cite", "citation", "source", "article", "passage",
                 "support", "example"),
    "sentences": ("sentence", "variety", "run-on", "choppy", "vary", "varied"),
}


def stem(word: str) -> str:
    word = word.lower()
    return word[:6] if len(word) >= 8 else word.rstrip("s")


def aspects_of(sentence: str) -> frozenset[str]:
    tokens = [w.lower() for w in words(sentence)]
    return frozenset(name for name, prefixes in ASPECTS.items()
                     if any(t.startswith(p) for t in tokens for p in prefixes))


@dataclass(frozen=True)
class Candidate:
    text: str
    example: int          # index into the graded examples
    score: float
    tokens: frozenset
    aspects: frozenset
    stems: frozenset
    level: float          # the example's score in scale steps (`CourseIndex.level`)


@dataclass
class ExampleCounts:
    score: float
    n_words: int
    n_paragraphs: int
    longest_paragraph: int
    n_quotes: int
    key_terms_used: int
    mean_sentence: float
    terms: frozenset = frozenset()   # the prompt's key terms this essay uses


class CourseIndex:
    def __init__(self, examples: list[GradedExample], assignment: AssignmentView,
                 embeddings=None):
        self.examples = list(examples)
        self.assignment = assignment
        self.scores = np.array([float(e.score) for e in self.examples], dtype=float)
        texts = [e.text or "" for e in self.examples]
        self._fit_similarity(texts, embeddings)
        df = Counter()
        for t in texts:
            df.update({w.lower() for w in words(t)})
        prompt_words = {w.lower() for w in words(assignment.prompt)}
        known = frozenset({w for w, c in df.items() if c >= 2} | prompt_words)
        self.course_words = course_vocabulary(zip(texts, self.scores.tolist()), assignment.prompt)
        terms = content_terms(assignment.prompt)   # instruction words already left out there
        self.key_terms = sorted((t for t in terms if df.get(t, 0) > 0),
                                key=lambda t: (-df[t], t))[:12]
        key = set(self.key_terms)
        # The key terms in the prompt's order, as the prompt and the better half of the essays write
        # them (what a point quotes back to the student).
        median = float(np.median(self.scores)) if len(self.scores) else 0.0
        self.term_forms = written_forms([t for t in terms if t in key], [assignment.prompt, *(
            t for t, s in zip(texts, self.scores) if s >= median)])
        self.counts = [self._counts(measure(t), float(s), key) for t, s in zip(texts, self.scores)]
        grams = prompt_ngram_set(assignment.prompt)
        names = getattr(examples, "names", frozenset())
        # Imported comments name people the roster does not know: checked against the words the
        # course writes capitalised (worked out only when there are such comments).
        proper = (course_proper_nouns(texts, assignment.prompt)
                  if any(ex.outside_roster and ex.comment for ex in self.examples) else None)
        self.candidates: list[Candidate] = []
        for i, ex in enumerate(self.examples):
            for sentence in reusable_sentences(ex.comment, ex.text, known, grams, names=names,
                                               proper_nouns=proper if ex.outside_roster else None):
                tokens = [w.lower() for w in words(sentence)]
                self.candidates.append(Candidate(
                    text=sentence, example=i, score=float(ex.score), tokens=frozenset(tokens),
                    aspects=aspects_of(sentence), stems=frozenset(stem(t) for t in tokens),
                    level=self.level(ex.score)))

    @staticmethod
    def _counts(stats: EssayStats, score: float, key_terms: set) -> ExampleCounts:
        used = {w.lower() for w in stats.word_list} & key_terms
        return ExampleCounts(score, stats.shown_words, stats.n_paragraphs,
                             max(stats.paragraph_words, default=0), stats.n_quotes, len(used),
                             stats.mean_sentence, frozenset(used))

    def _fit_similarity(self, texts: list[str], embeddings) -> None:
        self.vectorizer = self.matrix = self.embeddings = None
        if embeddings is not None:
            emb = np.asarray(embeddings, dtype=np.float32)
            if emb.shape[0] != len(texts):
                raise ValueError("embeddings must have one row per graded example")
            self.embeddings = emb / np.maximum(np.linalg.norm(emb, axis=1, keepdims=True), 1e-9)
            return
        if sum(1 for t in texts if t.strip()) < 2:
            return
        from sklearn.feature_extraction.text import TfidfVectorizer

        self.vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 4), min_df=2,
                                          sublinear_tf=True, max_features=40000,
                                          dtype=np.float32, lowercase=True)
        self.matrix = self.vectorizer.fit_transform(texts)

    def similarities(self, essay_text: str, essay_embedding=None) -> np.ndarray:
        """Cosine similarity of the essay to every graded example (zeros when unknown)."""
        n = len(self.examples)
        if self.embeddings is not None and essay_embedding is not None:
            q = np.asarray(essay_embedding, dtype=np.float32).ravel()
            return self.embeddings @ (q / max(float(np.linalg.norm(q)), 1e-9))
        if self.matrix is None or not (essay_text or "").strip():
            return np.zeros(n)
        q = self.vectorizer.transform([essay_text]).toarray().ravel()
        return np.asarray(self.matrix @ q).ravel()

    def level(self, score: float) -> float:
        """Score in scale steps (a 0-100 scale steps by 10, to the nearest step). On a scale that
        steps by one point a half point stays half a step (3.5 on 1-6 is 2.5, quarters going up):
        a half-point model's 3.5 is compared with the teacher's 3.5s, else with 3s and 4s alike
        (`DISTANCES`), not as a 4. Whole points give whole steps, as before."""
        a = self.assignment
        step = max(1.0, (a.score_max - a.score_min) / 10)
        per_step = 2 if step == 1 else 1
        steps = math.floor((float(score) - a.score_min) / step * per_step + 0.5) / per_step
        return int(steps) if float(steps).is_integer() else steps

    def step_label(self, level: float) -> str:
        a = self.assignment
        step = max(1.0, (a.score_max - a.score_min) / 10)
        value = a.score_min + level * step
        return str(int(value)) if float(value).is_integer() else f"{value:g}"

    def higher_than(self, level: float) -> list[ExampleCounts]:
        return [c for c in self.counts if self.level(c.score) > level]

    def higher_label(self, higher: list[ExampleCounts], level: float) -> str:
        """The score in "essays graded N or higher" for the essays `higher_than(level)` returns.

        The lowest score among them, not the next step's nominal score: steps are rounded, so on
        a 0-100 scale the essays above a 55 start at 65 (not 70), and on a 1-100 scale the next
        step (90.1) is a score nobody gives."""
        if not higher:
            return self.step_label(math.floor(level) + 1)
        low = min(c.score for c in higher)
        if float(low).is_integer():
            return str(int(low))
        # Half and quarter points read as given; a score mapped from an old scale (83.333...) is
        # cut, not rounded up, so that the lowest essay compared is still "N or higher".
        return f"{math.floor(low * 100 + 1e-9) / 100:g}"


# How far (in scale steps) a teacher's sentence's essay may be from this one, nearest first: the
# same score (tier 0), then a half point off (a 3.5's 3s and 4s alike; tier 1), then a point off (tier 1).
DISTANCES = (0, 0.5, 1)


def tier(distance: float) -> int:
    """A `DISTANCES` entry as the tier recorded with a sentence: 0 the same score, 1 near it."""
    return math.ceil(distance)


def jaccard(a: frozenset, b: frozenset) -> float:
    return len(a & b) / max(1, len(a | b))
