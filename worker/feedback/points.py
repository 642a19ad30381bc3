"""Concrete, measured points about one essay, each compared with the course's better essays.

A point is produced only when the count is out of line with what the essays graded higher in
this course show (or is a plain error count such as misspellings), so a well-measured essay
gets fewer points, never filler. Every point carries its numbers in `evidence`.
"""
from __future__ import annotations

import math
import re
import statistics
from functools import lru_cache

from worker.feedback.disproved import MIN_GRADED, absent_faults
from worker.feedback.retrieval import CourseIndex, ExampleCounts
from worker.feedback.spelling import in_capitals, misspelled
from worker.feedback.textstats import EssayStats, split_sentences, words

MIN_COMPARED = 3          # fewer higher-graded essays than this: no comparison is made
ONE_BLOCK_WORDS = 120     # a single paragraph this long is "one block"
LONG_PARAGRAPH = 200
RUN_ON = 40
# Words; below this an essay is a stub (no teacher sentence is matched to it, no praise reaches
# it), except in an assignment that asks for short answers, where the course's own answers
# decide (`stub`).
TOO_SHORT = 25
# Fewer sentences than this gets a point of its own: a 40-word sentence predicted 6 was told "The
# organization of your essay is purposeful, from the hook to the conclusion." Of PERSUADE's
# 12,000 real essays and ELLIPSE's 2,400, 59 of 25+ words have fewer (none scored above 2 by
# PERSUADE's teachers or above 3 by ELLIPSE's); every PERSUADE essay scored 5 or 6 has 10 or more.
MIN_SENTENCES = 3
# All but one of those 59 average over `RUN_ON` words a sentence: their trouble is where sentences
# end, so the point says to split them ("only 2 sentences (506 words)" read as "write more").
# Shorter than half of the assignment's graded essays (`disproved.MIN_GRADED` or more of them,
# as for "too short"), such an essay is a stub as well, an issue of the whole essay: 46 of the 59.
# At the usual length (13 of them, 142-1,047 words, scored 1-3) its content may earn praise: a
# score-3 learner's 506 words on distance learning in 2 sentences; praise of its sentences and
# punctuation is ruled out.
# An assignment whose graded answers have a median of fewer sentences than this asks for short
# answers (PERSUADE and ELLIPSE essays: a median of about 18), where the rule above would
# call the best answer a stub.
SHORT_ANSWER_SENTENCES = 2 * MIN_SENTENCES
# There an answer under `TOO_SHORT` words is a stub only when shorter than this share of the
# usual answer at its level or above: "shorter than most (3 in 4) of them" made a full-marks
# answer of 18 words a stub where the teacher's own full-marks answers ran 16-35 words.
STUB_SHARE = 0.5
SHOW_MISSPELLED = 6
# Typing in capitals affects every sentence, so it weighs as much as several slips: enough to
# make conventions a severe issue, so the teacher's praise of conventions is not chosen beside it.
CAPITALS_SLIPS = 3
# A sentence this long said twice word for word is a copy, not a refrain. Of PERSUADE's 12,000
# real essays, 10 have 3 or more copies making up a quarter of their sentences, and each of them
# does repeat whole passages; an essay of a few long sentences pasted twice qualifies.
COPY_WORDS = 8
MIN_COPIES = 3
COPY_SHARE = 0.25
# The `issue` of a point about the whole essay (one passage pasted again and again, a stub): it
# rules out the teacher's praise of any aspect, not just one, and the top band's sentences
# (`select`).
WHOLE_ESSAY = "whole_essay"
SHOW_RUN_ONS = 3
QUOTED_WORDS = 6          # the start of a long sentence, quoted back so the student can find it


def _q(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def _n(x: float) -> str:
    return str(int(round(x))) if abs(x - round(x)) < 0.05 else f"{x:.1f}"


def share_words(fraction: float, things: str) -> str:
    """A share of `things` in words a grade-6 student reads ("most essays", "more than half of
    the essays", "about 4 in 10 essays"), never "62% of the essays"."""
    if fraction <= 0:
        return f"none of the {things}"
    if fraction < 0.05:   # "about 0 in 10" would say none
        return f"fewer than 1 in 10 {things}"
    if fraction >= 1:
        return f"all {things}"
    if fraction >= 0.75:
        return f"most {things}"
    if fraction > 0.5:
        return f"more than half of the {things}"
    if fraction == 0.5:
        return f"half of the {things}"
    return f"about {max(1, round(10 * fraction))} in 10 {things}"


def _range(low: int, high: int, noun: str) -> str:
    return f"{low}–{high} {noun}s" if low != high else f"{low} {noun}{'s' if low != 1 else ''}"


def _part(kind: str, text: str, issue: str, severity: float, **evidence) -> dict:
    """`issue` names the aspect a teacher sentence should address; `severity` in [0, 1]."""
    return {"kind": kind, "text": text,
            "evidence": {"issue": issue, "severity": round(min(1.0, max(0.0, severity)), 3),
                         **evidence}}


def stub(n_words: int, index: CourseIndex, level: int) -> bool:
    """Too short to be judged as an answer: an issue of the whole essay (no teacher sentences, no
    praise). Under `TOO_SHORT` words, except in an assignment that asks for short answers
    (`_short_answers`): there a full-marks answer of 15-24 words can be what was asked, and an
    answer is a stub when it has under `STUB_SHARE` of the usual length (median) of the graded
    answers at its predicted level or above (all graded answers when fewer than `MIN_GRADED` are).
    Not its level alone: the answers graded 0 are often a word or two, and 3 words are no answer."""
    if not 0 < n_words < TOO_SHORT:
        return False
    if not _short_answers(index.counts):
        return True
    peers = [c.n_words for c in index.counts if index.level(c.score) >= level]
    if len(peers) < MIN_GRADED:
        peers = [c.n_words for c in index.counts]
    return n_words < STUB_SHARE * statistics.median(peers)


def length(stats: EssayStats, higher: list[ExampleCounts], label: str,
           course: list[ExampleCounts] = (), too_short: bool | None = None, noun: str | None = None):
    """Counts are the hand-in page's (`shown_words`), both stated and judged, so the student reads
    the same number twice and it agrees with the verdict (judged on A-Z words, 28 words with ten
    years among them were "only 28 words"). `too_short`: whether it is a stub (`stub`); None:
    under `TOO_SHORT` words. `noun`: `work_noun(course)`, when the caller has it already."""
    n, noun = stats.shown_words, noun or work_noun(course)
    if too_short if too_short is not None else 0 < n < TOO_SHORT:
        # The median, said as what it means: "a median of 317" is statistics to a 12-year-old.
        typical = (f"; about half of the graded {noun}s for this assignment have more than "
                   f"{_q([c.n_words for c in course], 0.5)} words" if course else "")
        # An issue of the whole essay: a stub gets no teacher block, and its trait lines must not
        # praise it either ("Conventions (4 of 4): Your conventions are mostly clean" on 19 words).
        return _part("length", f"The {noun} has only {n} word{'s' if n != 1 else ''}{typical}.",
                     WHOLE_ESSAY, 1.0, words=n, too_short=True)
    if 0 < stats.n_sentences < MIN_SENTENCES and noun != "answer":
        return _few_sentences(stats, [c.n_words for c in course])
    if len(higher) < MIN_COMPARED or n == 0:
        return None
    lengths = [c.n_words for c in higher]
    longer = sum(1 for w in lengths if w > n) / len(lengths)
    q1, q3 = _q(lengths, 0.25), _q(lengths, 0.75)
    # Inside the better essays' middle half is a usual length for them: saying "longer" there
    # was advice to an essay of 551 words whose peers ran 520-700.
    if longer < 0.5 or n >= q1:
        return None
    # The standard, not a ranking: "and all of them are longer than this essay" told the weakest
    # writers what the trait lines had stopped telling them (that everyone did better). The
    # better essays' middle half, said as what is usual. "For this assignment", not "in this
    # course": the essays compared are this assignment's graded ones, imported or handed in, and
    # "in this course" read as if classmates' grades were being shown.
    return _part("length",
                 f"This {noun} has {n} words; {noun}s graded {label} or higher for this assignment "
                 f"usually have {_range(q1, q3, 'word')}.", "development", 2 * (longer - 0.5),
                 words=n, percentile=round(100 * (1 - longer)),
                 compared=len(lengths), higher_q1=q1, higher_q3=q3)


def work_noun(course: list[ExampleCounts]) -> str:
    """What the points call the student's work and the graded ones: "answer" where the assignment
    asks for short answers (`_short_answers`), else "essay". "The essay has only 3 words" told a
    student asked for one or two sentences that an essay was expected."""
    return "answer" if _short_answers(course) else "essay"


def _short_answers(course: list[ExampleCounts]) -> bool:
    """The assignment asks for a few sentences: half of its graded answers have fewer than
    `SHORT_ANSWER_SENTENCES` (estimated from their words and mean sentence length). There a full-
    marks answer of two sentences is what was asked, not a stub. Unknown (under `MIN_GRADED`
    graded essays): not short answers."""
    if len(course) < MIN_GRADED:
        return False
    return statistics.median(c.n_words / max(1.0, c.mean_sentence) for c in course) < SHORT_ANSWER_SENTENCES


def _few_sentences(stats: EssayStats, graded_words: list[int]) -> dict:
    """An essay of 1 or 2 sentences: long ones are told to split (the `sentences` point, which
    needs 3, is not shown), short ones only counted. Shorter than half of the graded essays
    (`graded_words`), it is an issue of the whole essay (no praise of any aspect, nothing from the
    top band); see `MIN_SENTENCES`."""
    n, k = stats.shown_words, stats.n_sentences
    if stats.mean_sentence > RUN_ON:
        said = ((f"The essay is written as a single sentence of {n} words" if k == 1
                 else f"The essay is written as {k} sentences of {n} words in all")
                + ": split it into sentences that each make one point and end with a full stop.")
    else:
        said = (f"The essay is a single sentence of {n} words." if k == 1
                else f"The essay has only {k} sentences ({n} words).")
    if len(graded_words) < MIN_GRADED or n < statistics.median(graded_words):
        return _part("length", said, WHOLE_ESSAY, 1.0, words=n, sentences=k, few_sentences=True)
    # Sentence ends are punctuation too: "Your punctuation is correct" is as false here.
    return _part("length", said, "sentences", 1.0, words=n, sentences=k, few_sentences=True,
                 also_issues=["conventions"])


def paragraphs(stats: EssayStats, higher: list[ExampleCounts], label: str, noun: str = "essay",
               course: list[ExampleCounts] = ()):
    """`noun`: what the student's work is called (`work_noun`); `course`: all graded essays."""
    n, said = stats.n_paragraphs, []
    typical = [c.n_paragraphs for c in higher] if len(higher) >= MIN_COMPARED else []
    # Where the better ones (too few of them: all graded ones) are mostly one paragraph too, as
    # short answers are, one block is no fault: "The answer is a single paragraph of 130 words;
    # answers graded 3 or higher here usually have 1 paragraph" contradicted itself.
    usual = typical or ([c.n_paragraphs for c in course] if len(course) >= MIN_GRADED else [])
    if n == 1 and stats.shown_words >= ONE_BLOCK_WORDS and not (usual and _q(usual, 0.75) <= 1):
        said.append(f"The {noun} is a single paragraph of {stats.shown_words} words")
    elif typical and n < _q(typical, 0.25):
        said.append(f"The {noun} has {n} paragraph{'s' if n != 1 else ''}")
    if said and typical:
        said[-1] += (f"; {noun}s graded {label} or higher here usually have "
                     f"{_range(_q(typical, 0.25), _q(typical, 0.75), 'paragraph')}")
    limit = max(LONG_PARAGRAPH, _q([c.longest_paragraph for c in higher], 0.9) if typical else 0)
    long_ones = [w for w in stats.paragraph_words if w > limit]
    if n > 1 and long_ones:
        said.append(_long_paragraphs(long_ones, n, limit, higher if typical else [], label, noun))
    if not said:
        return None
    severity = 1.0 if n == 1 else 0.6
    return _part("paragraphs", ". ".join(said) + ".", "organisation", severity, paragraphs=n,
                 paragraph_words=stats.paragraph_words, long_paragraphs=len(long_ones),
                 long_limit=limit, higher_typical=typical and [_q(typical, 0.25), _q(typical, 0.75)])


def _long_paragraphs(long_ones: list[int], n: int, limit: int, higher: list[ExampleCounts],
                     label: str, noun: str = "essay") -> str:
    """Where the limit comes from, in words: "runs over 253 words" left students asking what 253
    was. It is the better essays' longest paragraphs (nearly all of them stay under it), or the
    fixed floor when there are too few of them to say."""
    one = len(long_ones) == 1
    sizes = f"{long_ones[0]} words" if one else f"the longest has {max(long_ones)} words"
    start = f"{len(long_ones)} of its {n} paragraphs {'is' if one else 'are'} very long"
    if not higher:
        return f"{start} ({sizes}; a paragraph of over {limit} words is hard to follow)"
    within = sum(1 for c in higher if c.longest_paragraph <= limit) / len(higher)
    return (f"{start} ({sizes}); {share_words(within, noun + 's')} graded {label} or higher have no "
            f"paragraph longer than {limit} words")


# The spelling point, `essay_issues` and the off-topic check (`compose`) all need the list; one
# essay is checked once.
@lru_cache(maxsize=4)
def misspelled_once(text: str, course_words: frozenset[str]) -> tuple[str, ...]:
    return tuple(misspelled(text, course_words))


def spelling(text: str, stats: EssayStats, index: CourseIndex):
    wrong = list(misspelled_once(text, index.course_words))
    if not wrong:
        return None
    shown = ", ".join(wrong[:SHOW_MISSPELLED])
    more = f" and {len(wrong) - SHOW_MISSPELLED} more" if len(wrong) > SHOW_MISSPELLED else ""
    noun = "word looks" if len(wrong) == 1 else "words look"
    rate = 100 * len(wrong) / max(1, stats.n_words)
    return _part("spelling", f"{len(wrong)} {noun} misspelled: {shown}{more}.", "conventions",
                 rate / 3, count=len(wrong), words=wrong, per_100_words=round(rate, 1))


def mechanics(stats: EssayStats, capitals: bool = False, noun: str = "essay"):
    said = []
    if capitals:
        said.append(f"most of the {noun} is typed in capital letters (capitals belong at the start "
                    "of sentences and in names)")
    if stats.lower_i:
        times = "once" if stats.lower_i == 1 else f"{stats.lower_i} times"
        said.append(f'"i" is written in lower case {times}')
    if stats.lowercase_starts:
        k = stats.lowercase_starts
        said.append(f"{k} sentence{'s start' if k > 1 else ' starts'} with a lower-case letter")
    if stats.doubled_words:
        k = len(stats.doubled_words)
        more = f" and {k - 3} more" if k > 3 else ""
        said.append(("a word is repeated: " if k == 1 else "words are repeated: ")
                    + ", ".join(f'"{d}"' for d in stats.doubled_words[:3]) + more)
    if stats.missing_spaces:
        said.append(f"{stats.missing_spaces} missing space{'s' if stats.missing_spaces > 1 else ''} "
                    "after punctuation")
    if not said:
        return None
    # Named by what it lists, in plain words ("Mechanics" is a teacher's word, not a student's).
    heading = " and ".join(
        name for name, present in (("Capital letters", capitals or stats.lower_i or stats.lowercase_starts),
                                   ("typos", stats.doubled_words or stats.missing_spaces)) if present)
    text = heading[0].upper() + heading[1:] + ": " + "; ".join(said) + "."
    slips = (stats.lower_i + stats.lowercase_starts + len(stats.doubled_words)
             + stats.missing_spaces + (CAPITALS_SLIPS if capitals else 0))
    return _part("mechanics", text, "conventions", slips / 5, lower_i=stats.lower_i,
                 lowercase_starts=stats.lowercase_starts, doubled=stats.doubled_words,
                 missing_spaces=stats.missing_spaces, capitals=capitals)


def _opening(sentence: str) -> str:
    """The first words of one of the student's own sentences, to quote back to them. The
    ellipsis is one character: "..." before a closing quote ended the point's sentence there."""
    shown = [w.strip("\"“”") for w in sentence.split()]
    shown = [w for w in shown if w]
    return " ".join(shown[:QUOTED_WORDS]) + ("…" if len(shown) > QUOTED_WORDS else "")


def _run_ons(run_ons: list[tuple[int, str]]) -> str:
    """Where the long sentences are: "over 40 words" alone left the student to count."""
    if len(run_ons) == 1:
        n, sent = run_ons[0]
        return f'the sentence starting "{_opening(sent)}" has {n} words; try splitting it'
    shown = [f'"{_opening(sent)}" ({n} words)' for n, sent in run_ons[:SHOW_RUN_ONS]]
    if len(run_ons) > SHOW_RUN_ONS:
        shown.append(f"{len(run_ons) - SHOW_RUN_ONS} more")
    listed = ", ".join(shown[:-1]) + " and " + shown[-1]
    return (f"{len(run_ons)} sentences have more than {RUN_ON} words: the ones starting {listed}; "
            "try splitting them")


def sentences(stats: EssayStats, text: str = ""):
    """`text`: the essay, whose long sentences are quoted by their first words (without it, only
    counted). Fewer than 3 sentences: the `length` point speaks of them (`_few_sentences`)."""
    lens = stats.sentence_words
    if len(lens) < MIN_SENTENCES:
        return None
    said = []
    run_ons = [n for n in lens if n > RUN_ON]
    found = [(len(words(s)), s) for s in split_sentences(text)]
    if run_ons and [n for n, _ in found] == lens:
        said.append(_run_ons([(n, s) for n, s in found if n > RUN_ON]))
    elif run_ons:
        said.append(f"{len(run_ons)} sentence{'s run' if len(run_ons) > 1 else ' runs'} over "
                    f"{RUN_ON} words ({_longest(run_ons)})")
    mean, spread = stats.mean_sentence, stats.sentence_spread
    if len(lens) >= 5 and mean < 8:
        said.append(f"sentences average {_n(mean)} words, which reads as choppy")
    elif len(lens) >= 6 and spread < 0.25 * mean:
        # A range, not "mean ± standard deviation": students in grades 6-12 read it.
        low, high = max(1, round(mean - spread)), round(mean + spread)
        said.append(f"most sentences are about the same length ({_range(low, high, 'word')})")
    if not said:
        return None
    text = "Sentences: " + "; ".join(said) + "."
    return _part("sentences", text, "sentences", len(run_ons) / 3 if run_ons else 0.5,
                 sentences=len(lens), mean_words=round(mean, 1),
                 spread=round(spread, 1), run_ons=len(run_ons))


def repetition(text: str, noun: str = "essay"):
    """The same passage pasted again: long paragraphs were all such an essay was told."""
    seen, copies, sents = set(), 0, split_sentences(text)
    for sent in sents:
        key = " ".join(w.lower() for w in words(sent))
        if len(key.split()) >= COPY_WORDS:
            copies += key in seen
            seen.add(key)
    if copies < MIN_COPIES or copies < COPY_SHARE * len(sents):
        return None
    return _part("repetition", f"The {noun} repeats the same passage: {copies} of its {len(sents)} "
                 "sentences are word-for-word copies of earlier ones.", WHOLE_ESSAY, 1.0,
                 copies=copies, sentences=len(sents))


def _longest(counts: list[int]) -> str:
    return f"it has {counts[0]} words" if len(counts) == 1 else f"the longest has {max(counts)}"


_SOURCE = re.compile(r"\b(article|passage|story|speech|poem|excerpt|text|source)s?\b", re.I)


def _source(prompt: str) -> str:
    """What the prompt calls what students read ("the article"), a word students know."""
    m = _SOURCE.search(prompt or "")
    return m.group(1).lower() if m else "source"


def evidence(stats: EssayStats, index: CourseIndex, higher: list[ExampleCounts], label: str,
             noun: str = "essay"):
    if not index.assignment.text_dependent:
        return None
    said = []
    compared = len(higher) >= MIN_COMPARED
    quoting = sum(1 for c in higher if c.n_quotes > 0) / len(higher) if compared else 0.0
    if stats.n_quotes == 0 and (not compared or quoting >= 0.3):
        said.append(f"The {noun} does not quote the {_source(index.assignment.prompt)}"
                    + (f"; {share_words(quoting, noun + 's')} graded {label} or higher quote it at least "
                       "once" if compared else ""))
    used = sorted({w.lower() for w in stats.word_list} & set(index.key_terms))
    typical = statistics.median(c.key_terms_used for c in higher) if compared else None
    # Only terms most of the better essays use are named as missing: the prompt's commonest
    # words ("people", "reader") were listed to essays that had no need of them.
    share = {t: sum(1 for c in higher if t in c.terms) / len(higher) for t in index.key_terms} if compared else {}
    missing = sorted((t for t in index.key_terms if t not in used and share.get(t, 0) >= 0.5),
                     key=lambda t: -share[t])[:5]
    if index.key_terms and typical is not None and len(used) < typical and missing:
        shown = index.term_forms   # in the prompt's order: "Seagoing Cowboys" reads as one name
        # A median of 6.5 terms is said as 7: half of those essays use 7 or more.
        said.append(f"It uses {len(used) or 'none'} of the prompt's key terms"
                    + (f" ({', '.join(shown[t] for t in shown if t in used)})" if used else "")
                    + f"; {noun}s graded {label} or higher typically use {math.ceil(typical)}. "
                    f"Not used: {', '.join(shown[t] for t in missing)}")
    if not said:
        return None
    return _part("evidence", ". ".join(said) + ".", "evidence", 0.5 * len(said),
                 quotes=stats.n_quotes,
                 key_terms_used=used, key_terms=index.key_terms, typical_key_terms=typical,
                 higher_quoting_share=round(quoting, 2) if compared else None)


def measured_points(text: str, stats: EssayStats, index: CourseIndex, level: int,
                    limit: int = 6) -> list[dict]:
    """The `limit` most severe points, shown in a fixed reading order."""
    higher = index.higher_than(level)
    label = index.higher_label(higher, level)
    noun = work_noun(index.counts)
    found = [repetition(text, noun), length(stats, higher, label, index.counts,
                                            stub(stats.shown_words, index, level), noun),
             paragraphs(stats, higher, label, noun, index.counts),
             spelling(text, stats, index), mechanics(stats, in_capitals(text), noun),
             sentences(stats, text),
             evidence(stats, index, higher, label, noun)]
    found = [p for p in found if p]
    keep = sorted(range(len(found)), key=lambda i: (-found[i]["evidence"]["severity"], i))[:limit]
    return [found[i] for i in sorted(keep)]


def essay_issues(points: list[dict], text: str, stats: EssayStats, index: CourseIndex) -> dict[str, float]:
    """What teacher sentences are weighed against (`select`): each measured point's aspect at its
    most severe, and the faults this essay clearly does not have (`disproved.absent_faults`), all
    of them, not only those of the points kept."""
    issues: dict[str, float] = {}
    for p in points:
        ev = p["evidence"]
        for issue in (ev["issue"], *ev.get("also_issues", ())):
            issues[issue] = max(issues.get(issue, 0.0), ev["severity"])
    issues.update(absent_faults(text, stats, list(misspelled_once(text, index.course_words)),
                                [c.n_words for c in index.counts]))
    return issues
