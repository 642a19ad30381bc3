"""Choose which of the teacher's own sentences to show: same score first, then one step away.

Within a score tier, sentences are ranked by how similar their essay is to this one and by
whether they talk about something this essay measurably needs (its "issues"). Near-duplicate
sentences are shown once. Praise of an aspect this essay has a severe measured issue with
("Your conventions are nearly flawless" next to "13 words look misspelled") is never chosen,
for the summary or for a trait's line; nor is criticism of a fault it measurably does not have,
nor "a few spelling errors remain" beside a long list of them (`disproved`). A sentence from an
essay scored one step off must fit this side of the score (`wrong_side`). An issue of the whole
essay (`points.WHOLE_ESSAY`: one passage pasted again and again, a stub, a single sentence)
rules out praise of every aspect, the top score band's sentences and a weaker essay's. A trait
line with no sentence of its own may show what the next score up on the trait looks like: a
sentence from an essay scored higher on it, said to be from that essay (`next_step_sentence`).
No sentence about what one student wrote ("your story about working at the taco truck") is
chosen for anyone else, by any of these (`own_content`).
"""
from __future__ import annotations

import math
import re
from functools import lru_cache

from worker.feedback.disproved import disproved, minimises
from worker.feedback.own_content import reusable
from worker.feedback.points import WHOLE_ESSAY
from worker.feedback.records import number
from worker.feedback.retrieval import DISTANCES, Candidate, CourseIndex, jaccard, stem, tier

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


def _levels_open(issues: dict[str, float] | None, target: int, top: int | None) -> tuple[float, float]:
    """(lowest, above highest) level whose sentences this essay may get: all, but with an issue of
    the whole essay only its own level and those above it short of the top. A pasted passage
    scored high must not be told what the best essays were told, nor a one-sentence essay scored
    6 what an essay scored 5 was ("Your counterclaim about aliens is handled fairly ..."): a
    weaker essay's sentence reaches a higher score only as praise (`wrong_side`), and praise is
    often in words `_PRAISE` does not know ("handled fairly", "builds on")."""
    if (issues or {}).get(WHOLE_ESSAY, 0.0) < SEVERE:
        return -math.inf, math.inf
    return target, math.inf if top is None else top


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
    low, high = _levels_open(issues, level, index.level(index.assignment.score_max))
    for distance in DISTANCES:
        pool = [c for c in reusable(index) if abs(c.level - level) == distance and low <= c.level < high
                and not contradicts(c, issues) and not wrong_side(c.text, c.level, level)]
        ranked = sorted(
            ((float(sims[c.example]) + _bonus(c, issues), c) for c in pool),
            key=lambda rc: (-rc[0], rc[1].example, rc[1].text))
        for rank, cand in _pick(ranked, limit - len(out), taken):
            out.append((rank, cand, tier(distance)))
            taken.append(cand)
        if len(out) >= limit:
            break
    return out


def _trait_level(value, trait: dict) -> float | None:
    """A trait score to the nearest half point (quarters up; a half-point model's 3.5 is no 4:
    `DISTANCES`), bounded by the trait's range."""
    value = number(value)
    if value is None:
        return None
    lo, hi = number(trait.get("min")), number(trait.get("max"))
    half = math.floor(value * 2 + 0.5) / 2
    return min(math.inf if hi is None else hi, max(-math.inf if lo is None else lo, half))


def _naming(index: CourseIndex, trait: dict, refused) -> list[tuple[Candidate, float]]:
    """The course's sentences that name `trait` (a word of its name, stemmed), each with its essay's
    score on that trait, less those `refused(candidate)` rules out."""
    name = trait["name"]
    stems = {stem(w) for w in name.replace("_", " ").split()}
    found = []
    for c in reusable(index):
        if stems & c.stems and not refused(c):
            score = number((index.examples[c.example].trait_scores or {}).get(name))
            if score is not None:
                found.append((c, score))
    return found


def _most_similar(pool: list[Candidate], sims, taken: list[Candidate]) -> Candidate | None:
    """The sentence of the essay most like this one, none near a sentence already shown."""
    ranked = sorted(((float(sims[c.example]), c) for c in pool),
                    key=lambda rc: (-rc[0], rc[1].example, rc[1].text))
    picked = _pick(ranked, 1, taken)
    return picked[0][1] if picked else None


def trait_sentence(index: CourseIndex, sims, trait: dict, trait_score, taken: list[Candidate],
                   issues: dict[str, float] | None = None):
    """The teacher's best sentence about `trait` from essays at this trait score (else half a point
    off, else one off: `DISTANCES`; scores to the nearest half, `_trait_level`),
    never praise of an aspect this essay has a severe measured issue with (`contradicts`), nor
    one off in the wrong direction (`wrong_side`): no sentence beats a wrong one."""
    if number(trait_score) is None:
        return None
    mentions = [(c, _trait_level(score, trait))
                for c, score in _naming(index, trait, lambda c: contradicts(c, issues or {}))]
    target = _trait_level(trait_score, trait)
    low, high = _levels_open(issues, target, _trait_level(trait.get("max"), trait))
    for distance in DISTANCES:
        pool = [c for c, lv in mentions if low <= lv < high
                and abs(lv - target) == distance and not wrong_side(c.text, lv, target)]
        found = _most_similar(pool, sims, taken)
        if found:
            return found, tier(distance)
    return None


def next_step_sentence(index: CourseIndex, sims, trait: dict, trait_score, taken: list[Candidate],
                       issues: dict[str, float] | None = None):
    """(sentence, that essay's trait score): what the next score up on `trait` looks like in the
    teacher's own words, a sentence naming the trait on the most similar essay at the next score up
    the teacher gave, within one point (the next after it where all of that score's sentences are
    shown already); None at the trait's top or without one. It is shown as written on
    another essay (`traits`), not said of this one, so a stronger essay's praise fits here. Left
    out: criticism this essay's measurements disprove (`disproved`), and words that make errors
    small ("Only a few grammar slips remain", `minimises`), which a weak writer skimming the
    frame reads as said of them. None for an issue of the whole essay (a stub, a single sentence,
    one passage pasted again: `WHOLE_ESSAY`): its problem is the whole essay, and a stronger
    essay's praise ("Excellent cohesion, every paragraph flows into the next") is no next step
    for it."""
    value = number(trait_score)
    issues = issues or {}
    if value is None or issues.get(WHOLE_ESSAY, 0.0) >= SEVERE:
        return None
    above = {c: score for c, score in _naming(index, trait, lambda c: disproved(c.text, issues)
                                              or minimises(c.text))
             if value < score <= value + 1}
    # The next score up the teacher gave (from 3.5: 4 where they use it, not 4.5 beside it); where
    # its sentences are all shown already, the next after it, not the bare score.
    for next_up in sorted(set(above.values())):
        found = _most_similar([c for c, score in above.items() if score == next_up], sims, taken)
        if found:
            return found, next_up
    return None
