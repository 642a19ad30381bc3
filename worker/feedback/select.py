"""Choose which of the teacher's own sentences to show: same score first, then one step away.

Within a score tier, sentences are ranked by how similar their essay is to this one and by
whether they talk about something this essay measurably needs (its "issues"). Near-duplicate
sentences are shown once. Praise of an aspect this essay has a severe measured issue with
("Your conventions are nearly flawless" next to "13 words look misspelled") is never chosen,
for the summary or for a trait's line; nor is criticism of a fault it measurably does not have,
nor "a few spelling errors remain" beside a long list of them (`disproved`). A sentence from an
essay scored one step off must fit this side of the score (`wrong_side`). An issue of the whole
essay (`points.WHOLE_ESSAY`: one passage pasted again and again, a stub) rules out praise of
every aspect and the top score band's sentences.
"""
from __future__ import annotations

import math
import re
from functools import lru_cache

from worker.feedback.disproved import disproved, minimises
from worker.feedback.points import WHOLE_ESSAY
from worker.feedback.records import number
from worker.feedback.retrieval import Candidate, CourseIndex, jaccard, stem

DUPLICATE = 0.6
ASPECT_BONUS = 0.3
SEVERE = 0.5          # a measured issue this severe rules out praise of its aspect
_PRAISE = re.compile(
    r"\b(flawless|clean|excellent|strong|skil(l)?ful(ly)?|precise|purposeful|polished|"
    r"well[- ](organi[sz]ed|developed|written|supported|structured|done)|great|nice|good|"
    r"effective(ly)?|clear|smooth(ly)?|solid|impressive|strength)\b", re.I)
_ADVICE = re.compile(
    r"\b(but|however|although|need|needs|should|check|proofread|watch|remain|remains|work on|more|"
    r"fix|errors?|mistakes?|missing|try|make sure|avoid|instead|add|tighten|use|could|would|"
    r"not|no|lacks?|weak|hard|improve|revise|reread)\b", re.I)


# Words of a weaker essay's comment that `_ADVICE` lacks ("organize paragraphs better").
_FAULT = re.compile(r"\b(better|unclear|confusing|vague|thin|jumps?|short|off[- ]topic)\b", re.I)


# Asked of every candidate sentence of a course for every essay scored: the answers are cached
# (a course has a few thousand sentences; 3-4 ms per essay uncached).
@lru_cache(maxsize=16384)
def _praise(text: str) -> bool:
    return bool(_PRAISE.search(text)) and not _ADVICE.search(text)


@lru_cache(maxsize=16384)
def _criticism(text: str) -> bool:
    return bool(_ADVICE.search(text) or _FAULT.search(text))


def contradicts(cand: Candidate, issues: dict[str, float]) -> bool:
    """Praise (no advice in it) about an aspect with a severe measured issue in this essay (any
    aspect, for an issue of the whole essay), or criticism its measurements disprove."""
    if disproved(cand.text, issues):
        return True
    if not any(issues.get(a, 0.0) >= SEVERE for a in (*cand.aspects, WHOLE_ESSAY)):
        return False
    return _praise(cand.text)


def _whole_essay_issue(issues: dict[str, float] | None) -> bool:
    """A pasted passage scored high must not be told what the best essays were told: their
    praise is often in words `_PRAISE` does not know ("handled fairly", "builds on")."""
    return (issues or {}).get(WHOLE_ESSAY, 0.0) >= SEVERE


def wrong_side(text: str, source_level: int, target: int) -> bool:
    """A sentence written for an essay scored on the other side of this one that says the
    opposite of what this score means: a weaker essay's criticism for a higher score (at the
    trait's top it always comes from below: "Organization (4 of 4): ... organize paragraphs
    better"), or a stronger essay's praise, or words that make its errors small ("A few grammar
    slips remain, so check ..." told a Grammar 1.5 of 5: `minimises`), for a lower one."""
    if source_level < target:
        return _criticism(text)
    return source_level > target and (_praise(text) or minimises(text))


def _pick(ranked: list[tuple[float, Candidate]], limit: int, taken: list[Candidate]) -> list:
    chosen = []
    for rank, cand in ranked:
        if len(chosen) >= limit:
            break
        if any(jaccard(cand.tokens, t.tokens) >= DUPLICATE for t in taken + [c for _, c in chosen]):
            continue
        chosen.append((rank, cand))
    return chosen


def _bonus(cand: Candidate, issues: dict[str, float]) -> float:
    """The most severe measured issue the sentence speaks to (max, so breadth earns nothing)."""
    return ASPECT_BONUS * max((issues.get(a, 0.0) for a in cand.aspects), default=0.0)


def teacher_sentences(index: CourseIndex, sims, level: int, issues: dict[str, float], limit: int,
                      taken: list[Candidate] | None = None) -> list[tuple[float, Candidate, int]]:
    """Up to `limit` (relevance, candidate, tier) with tier 0 = same score, 1 = adjacent (never in
    the wrong direction, `wrong_side`)."""
    taken = list(taken or [])
    out = []
    top = index.level(index.assignment.score_max) if _whole_essay_issue(issues) else None
    for tier in (0, 1):
        pool = [c for c in index.candidates if abs(c.level - level) == tier and c.level != top
                and not contradicts(c, issues) and not wrong_side(c.text, c.level, level)]
        ranked = sorted(
            ((float(sims[c.example]) + _bonus(c, issues), c) for c in pool),
            key=lambda rc: (-rc[0], rc[1].example, rc[1].text))
        for rank, cand in _pick(ranked, limit - len(out), taken):
            out.append((rank, cand, tier))
            taken.append(cand)
        if len(out) >= limit:
            break
    return out


def _trait_level(value, trait: dict) -> int | None:
    """A trait score as the whole level training counts it as: halves go up (4.5 is 5; Python's
    `round` took 4.5 to 4 and 3.5 to 4) and the trait's range bounds it."""
    # Imported here: training_set's module brings the database models, which composing feedback
    # does not otherwise need.
    from worker.ml.training_set import whole_score

    value = number(value)
    if value is None:
        return None
    lo, hi = number(trait.get("min")), number(trait.get("max"))
    return int(whole_score(value, -math.inf if lo is None else lo, math.inf if hi is None else hi))


def trait_sentence(index: CourseIndex, sims, trait: dict, trait_score, taken: list[Candidate],
                   issues: dict[str, float] | None = None):
    """The teacher's best sentence about `trait` from essays at this trait score (or one off;
    scores are whole levels, halves up, as in training: `_trait_level`),
    never praise of an aspect this essay has a severe measured issue with (`contradicts`), nor
    one off in the wrong direction (`wrong_side`): no sentence beats a wrong one."""
    name = trait["name"]
    stems = {stem(w) for w in name.replace("_", " ").split()}
    mentions = [c for c in index.candidates if stems & c.stems and not contradicts(c, issues or {})]
    if not mentions or number(trait_score) is None:
        return None
    target = _trait_level(trait_score, trait)
    top = _trait_level(trait.get("max"), trait) if _whole_essay_issue(issues) else None

    def trait_level(c: Candidate):
        return _trait_level((index.examples[c.example].trait_scores or {}).get(name), trait)

    for tier in (0, 1):
        pool = [c for c in mentions if (lv := trait_level(c)) is not None and lv != top
                and abs(lv - target) == tier and not wrong_side(c.text, lv, target)]
        ranked = sorted(((float(sims[c.example]), c) for c in pool),
                        key=lambda rc: (-rc[0], rc[1].example, rc[1].text))
        picked = _pick(ranked, 1, taken)
        if picked:
            return picked[0][1], tier
    return None
