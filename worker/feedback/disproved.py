"""Teacher criticism that this essay's own measurements disprove.

A sentence reused from another student's comment is true of THAT essay. "Watch spelling and the
use of lower-case i." or "transitions between them are missing" told a student who wrote no
lower-case "i" and opened sentences with "However", "Finally" and "Therefore" about faults they
do not have. Here each measured fault has two halves: a pattern for a sentence that says the
essay has it, and a test that this essay clearly does not. Both are deliberately narrow: a
sentence must speak of that very fault ("more transitions", "vary your transitions" ask for
more, not for some, and stay), and the measurement must leave no doubt (zero lower-case "i",
three or more paragraphs, ...), since a wrongly refused sentence costs little and a wrongly
kept one tells a student something false.

The same holds the other way round for a sentence that makes the essay's errors small: "A few
spelling errors remain" or "only small slips", written for an essay with three misspellings, was
quoted beside "22 words look misspelled: ..." (`few_errors`: refused when the spelling point lists
`MANY_MISSPELLED` or more). `minimises` is the wider test `select` applies to a sentence from a
stronger essay: "A few grammar slips remain" understates a weaker essay's grammar too, though
no count can tell.

The essay's absent faults travel to `select` inside its `issues` dict as keys `ABSENT + fault`,
so trait lines (which receive the same dict) refuse the same sentences.
"""
from __future__ import annotations

import re
import statistics
from functools import lru_cache

from worker.feedback.textstats import EssayStats, split_sentences

ABSENT = "absent:"
# Sentence openers that link to what came before. Conjunctions ("And", "But", "So") and
# "Then" are left out: they start sentences in essays with no sense of transition at all.
_TRANSITION = re.compile(
    r"^\W*(however|therefore|thus|finally|lastly|also|first(ly)?|second(ly)?|third(ly)?|next|"
    r"furthermore|moreover|additionally|besides|consequently|meanwhile|similarly|overall|"
    r"in (conclusion|addition|summary|fact|short|other words)|to (conclude|sum up|begin with)|"
    r"for (example|instance)|on the other hand|as a result|after all|another reason)\b", re.I)
MIN_TRANSITIONS = 3           # sentences opening on one, of at least two different openers
MIN_PARAGRAPHS = 3            # "break it into paragraphs" is false of an essay with this many
# Words: an essay whose longest sentence is this short has no run-on. Well under the 40 of the
# sentences point, since teachers also call a comma splice of 25 words a run-on.
NO_RUN_ON = 25
# "Very short" is disproved by an essay at least as long as half of the assignment's graded
# essays (their median, in the hand-in page's count), whatever their scores: that is the normal
# length here by the course's own measure, so the claim, written for a stub, is false of it.
# Conservative: an essay shorter than that keeps the teacher's sentence even where it is longer
# than most essays graded at its own score. The `length` point may still say, in numbers, that
# the better-graded essays run longer: shorter than them is not "very short". With fewer graded
# essays than this, what is usual is not known.
MIN_GRADED = 5
# "Try combining short sentences with because or although" was told an essay written as 2
# sentences of 506 words. It is disproved by sentences of over 25 words on average with at most
# 1 in 5 under 8 words (the `sentences` point's "choppy" average): on ELLIPSE, 2 in 5 English
# learners' essays average over 25, and of those the sentences under 8 words are 4% on average.
LONG_AVERAGE = 25
# Fewer sentences than this have no variety to praise (`points.MIN_SENTENCES`).
VARIED = 3
SHORT_SENTENCE = 8
FEW_SHORT = 0.2

# "no spelling errors", "few typos" praise; "a few spelling errors remain" does not.
_NEGATED = r"(?<!\bno )(?:(?<=\ba few )|(?<!\bfew ))(?<!\bwithout )(?<!\bany )"
# Distinct misspelled words that are not "a few" (about three, in everyday words): twice that,
# and a spelling point that lists six words by name. On ELLIPSE (2,417 English learners' essays,
# scored by their teachers for Conventions), 49% of the essays scored 2.5 or lower reach it, and
# 11% of those scored 3.5 or higher (5% at 4 or higher), whose teachers might write "only small
# slips": beside a list of six misspelled words, that still reads as the errors made small.
MANY_MISSPELLED = 6
# Words that make errors small: "a few", "only small", "minor". "Even small mistakes add up" and
# "no matter how minor" speak of errors in general, not of this essay's.
_FEW = (r"(?<!\beven )(?<!\bhow )\b(a\s+few|(very\s+)?few|a\s+couple(\s+of)?|one\s+or\s+two|minor|small"
        r"|little|tiny|occasional|rare)")
_ERRORS = r"(errors?|slips?|mistakes?|typos?|misspellings?|misspelled\s+words?)\b"
# Errors of something other than spelling, which no count here measures ("a few grammar slips").
_OTHER_AREA = (r"(grammar|grammatical|punctuation|capitali[sz]\w*|capital|commas?|tenses?|verbs?|"
               r"agreement|citations?|formatting|usage|sentences?|logic\w*|reasoning|words?|wording)\b")
# "Mostly clean", "nearly flawless": few errors, in a word.
_ALMOST_NONE = (r"\b(nearly|almost|virtually|mostly|largely)\s+(flawless|perfect|clean|correct|accurate|"
                r"error[- ]free)\b")
# Any error said to be small, for a sentence from a stronger essay (`select.wrong_side`).
_MINIMISES = re.compile(_FEW + r"(\s+[\w'-]+){0,3}?\s+" + _ERRORS + "|" + _ALMOST_NONE, re.I)
# What a sentence has to say for each fault; `more`/`another`/`vary` style requests are not
# claims that the thing is missing.
# The essay as a whole (not a paragraph, a conclusion or its sentences) said to be too short.
_WHOLE = (r"(\b(essay|response|answer|piece|writing|submission|paper|draft)\b(\s+\w+){0,2}?"
          r"|\b(this|it))\s+")
_YOURS = r"(it|this|your\s+(essay|response|answer|writing|draft))"
_SAYS = {
    "lower_i": re.compile(
        r"\blower[- ]?case\s+['\u2018]?i\b|\bcapitali[sz]e\s+(the\s+)?(word\s+|letter\s+|pronoun\s+)?"
        r"['\u2018]?i\b|\bcapital\s+['\u2018]?i\b|\bthe\s+pronoun\s+['\u2018]?i\b", re.I),
    "transitions": re.compile(
        r"\btransitions?\b[^.;:]*\b(are|is)\s+(missing|lacking|absent|needed)\b"
        r"|\b(no|missing|lacks?|lacking|without|needs?|add|use|include)\s+(some\s+|any\s+)?transitions?\b"
        r"|\b(need|needs|try|remember)\s+to\s+(use|add|include)\s+(some\s+)?transitions?\b", re.I),
    "paragraphs": re.compile(
        r"\b(break|split|divide|separate|organi[sz]e|put)\b[^.;:]{0,40}\binto\s+(\w+\s+)?paragraphs\b"
        r"|\b(no|without|missing|lacks?|lacking|needs?)\s+(any\s+|real\s+|separate\s+)?paragraph(s|ing| breaks?)\b"
        r"|\b(is|was|as|in)\s+(just\s+|only\s+)?(one|a single)\s+(big\s+|long\s+|large\s+)?(paragraph|block)\b"
        r"|\bwall of text\b|\bindent", re.I),
    "spelling": re.compile(
        _NEGATED + r"\b(misspell\w*|typos?)\b"
        r"|" + _NEGATED + r"\bspelling(\s+and\s+\w+)?\s+(errors?|mistakes?|slips?|problems?|issues?)\b"
        r"|\b(watch|check|proofread|fix|correct|work on|careful with|improve)\b[^.;:]{0,30}\bspell\w*", re.I),
    "run_ons": re.compile(_NEGATED + r"\brun[- ]?on(s|\s+sentences?)?\b", re.I),
    # Sentences said to be short, or advice to join them; not "no choppy sentences".
    "choppy": re.compile(
        r"(?<!\bnot )(?<!\bnever )(?<!\bwithout being )" + _NEGATED + r"\bchoppy\b"
        r"|\b(combin\w*|join\w*|link\w*|connect\w*)\b[^.;:]{0,30}\b(short|small|simple|little)\s+sentences\b"
        r"|" + _NEGATED + r"\b(too\s+many|lots\s+of|mostly|only|all)\s+(very\s+)?short\s+sentences\b"
        r"|\bsentences\s+are\s+(all\s+|mostly\s+)?(too\s+|very\s+|quite\s+|really\s+|so\s+)?short\b", re.I),
    "quotes": re.compile(
        r"\b(no|never|without|missing|lacks?)\s+(direct\s+)?quot(es?|ations?)\b|\bdoes(n't| not)\s+quote\b"
        r"|\b(add|include|use|needs?)\s+(a\s+|at least one\s+|one\s+|some\s+)?(direct\s+)?quot(es?|ations?)\b"
        r"|^\W*quote\b|\b(try|remember|need|needs|should)\s+(to\s+)?quot(e|ing)\b", re.I),
    # Small errors of spelling or of no named kind; "a few grammar and spelling errors" too.
    "few_errors": re.compile(
        _FEW + r"(\s+(?!" + _OTHER_AREA + r")[\w'-]+){0,3}?\s+" + _ERRORS
        + r"(?!\s+(in|of|with)\s+(\w+\s+)?" + _OTHER_AREA + ")"
        + "|" + _FEW + r"(\s+[\w'-]+){0,3}?\s+(spelling|misspell\w*|typos?)\b"
        r"|\b(spelling|conventions|mechanics)\b[^.;:]{0,30}" + _ALMOST_NONE
        + "|" + _ALMOST_NONE + r"\s+(spelling|conventions|mechanics)\b", re.I),
    # Praise of sentence variety (reversed, like "few_errors"): no claim a count makes about 1 or 2
    # sentences. "Your syntax is varied and you use complex sentences well." reached an essay
    # written as one sentence of 544 words.
    "varied_sentences": re.compile(
        r"\b(syntax|sentences|sentence\s+(structures?|lengths?))\s+(is|are)\s+(\w+\s+)?"
        r"(varied|sophisticated|controlled)\b"
        r"|\b(use|write|build)\s+(varied|complex|sophisticated)\s+sentences\s+(well|effectively|skil+fully)\b"
        r"|\b(good|nice|great|strong|excellent)\s+(sentence\s+)?variety\b", re.I),
    "length": re.compile(
        _WHOLE + r"(is|was|feels|seems|looks|reads)\s+((still|far|much|way|rather|quite|very|really|so"
        r"|extremely|too|a bit|a little)\s+){1,3}(short|brief)\b"
        r"|" + _WHOLE + r"(is|was)(n't|\s+not)\s+(\w+\s+)?long\s+enough\b"
        r"|" + _WHOLE + r"(needs?|has|have|ought|should|must|could)\s+(to\s+)?be\s+"
        r"((much|a lot|a bit|a little|far|way)\s+)?longer\b"
        r"|\ban?\s+(very|really|quite|extremely|rather|too)\s+(short|brief)\s+"
        r"(essay|response|answer|piece|submission|paper|draft)\b"
        r"|\b(make|making)\s+" + _YOURS + r"\s+longer\b|\blengthen\s+" + _YOURS + r"\b", re.I),
}
# Advice that opens on what to do ("Check for small errors before you submit.", "Proofread carefully
# to catch small mistakes.") tells the student to look for errors; it does not say theirs are few.
# Only verbs of looking for errors, or a purpose "to fix mistakes": "Keep up the good work; only a
# few small spelling errors." opens on a verb too, and does make them few.
_ADVICE = re.compile(r"^\W*(please\s+)?(check|double-check|proofread|re-?read|fix|correct|catch|look\s+for|"
                     r"watch\s+(out\s+)?for|review|edit|go\s+back)\b"
                     r"|\bto\s+(fix|catch|find|correct|spot)\s+(any\s+|the\s+|those\s+|these\s+)?"
                     r"(small\s+|little\s+|minor\s+)?(errors?|mistakes?|slips?|typos?)\b", re.I)
_ASKS_MORE = {
    "few_errors": _ADVICE,
    "transitions": re.compile(r"\b(more|vary|varied|variety|different|better|stronger|other|new|fresh|"
                              r"too many|overus\w*|repeat\w*)\b[^.;:]{0,20}\btransitions?\b", re.I),
    "quotes": re.compile(r"\b(more|another|again|other)\b", re.I),
}


def transition_starts(text: str) -> tuple[int, int]:
    """(sentences opening on a transition, different transitions so used)."""
    found = [m.group(1).lower() for s in split_sentences(text) if (m := _TRANSITION.match(s))]
    return len(found), len(set(found))


def absent_faults(text: str, stats: EssayStats, misspelled: list[str],
                  graded_words: list[int] = ()) -> dict[str, float]:
    """`issues` entries for the faults this essay clearly does not have. `graded_words`: the
    word counts of the assignment's graded essays (none: its length is not judged)."""
    uses, kinds = transition_starts(text)
    absent = {
        "lower_i": stats.lower_i == 0,
        "transitions": uses >= MIN_TRANSITIONS and kinds >= 2,
        "paragraphs": stats.n_paragraphs >= MIN_PARAGRAPHS,
        "spelling": not misspelled and stats.n_words > 0,
        "run_ons": 0 < max(stats.sentence_words, default=0) <= NO_RUN_ON,
        "choppy": (stats.mean_sentence > LONG_AVERAGE and sum(
            n < SHORT_SENTENCE for n in stats.sentence_words) <= FEW_SHORT * stats.n_sentences),
        "quotes": stats.n_quotes > 0,
        "few_errors": len(misspelled) >= MANY_MISSPELLED,   # absent: errors that are few
        "varied_sentences": 0 < stats.n_sentences < VARIED,  # absent: variety
        "length": (len(graded_words) >= MIN_GRADED
                   and stats.shown_words >= statistics.median(graded_words)),
    }
    return {ABSENT + fault: 1.0 for fault, yes in absent.items() if yes}


@lru_cache(maxsize=16384)   # asked of every candidate sentence for every essay scored
def faults_claimed(sentence: str) -> frozenset[str]:
    """The measured faults `sentence` says an essay has."""
    return frozenset(f for f, says in _SAYS.items()
                     if says.search(sentence) and not (f in _ASKS_MORE and _ASKS_MORE[f].search(sentence)))


@lru_cache(maxsize=16384)
def minimises(sentence: str) -> bool:
    """Does the sentence make the essay's errors, of any kind, small ("a few grammar slips
    remain", "only small slips", "mostly clean")?"""
    if _ADVICE.search(sentence):
        return False
    return bool(_MINIMISES.search(sentence) or _SAYS["few_errors"].search(sentence))


def disproved(sentence: str, issues: dict[str, float]) -> bool:
    """Does the sentence claim a fault this essay measurably does not have?"""
    return any(ABSENT + f in issues for f in faults_claimed(sentence))
