"""Teacher sentences about what one student wrote: never shown to another student.

"Your conclusion ties back to your story about working at the taco truck after school." is true
of one essay. Reused, it names a story the reader never wrote (told as their own: "Your
vocabulary about your soccer team is precise" reached essays about distance learning), and in a
trait line's next step, beside that essay's score, it tells the class what a recognisable
classmate scored. Such a sentence points at the student's content with "your ..." or
"about ...", and what it points at is a word this course's essays rarely use: not a word of the
prompt, used by fewer than `RARE_SHARE` of the graded essays, no word about writing (the
instruction words, the comment aspects, the assignment's trait names, `_WRITING` with the words
of an argument, "the opposing view", and an ordinal, "your second reason"), and a word of the
essay the comment was written on (a real teacher's "your counterargument is weak" or "your
introduction about the author's point" names the writing, and was dropped before). "Your
counterclaim about aliens", "examples from your life" and "your cohesion" name nothing of one
essay and stay.
Teachers point at content in other words as well, and the same test applies to what follows
them: a piece of the essay and "of"/"on" ("your example of the hurricane", "the section on
volcanoes", "the story of your dog getting lost"), and "you" with a verb of telling ("the
paragraph where you describe the treehouse"). "The part where you talk about the
counterargument", "your example is strong", "the section on evidence" and "you tell a vivid
story" (a judgement, `_JUDGING`) still name the writing.

A rule on wording, not on how often the teacher wrote the sentence: quoting only sentences the
teacher wrote on two or more essays would keep a canned remark pasted onto a whole band (as the
reviews' simulated courses do) and drop almost every sentence of a teacher who writes each
comment afresh.
"""
from __future__ import annotations

import re
import weakref
from collections import Counter

from worker.feedback.retrieval import ASPECTS, Candidate, CourseIndex
from worker.feedback.textstats import INSTRUCTION_WORDS, STOPWORDS, words

# Share of the course's graded essays below which a word names one student's content. "soccer"
# in 5 of 75 distance-learning essays (7%) is one student's team; "reasons" in 15% of them, or
# "life", is everyone's. A course of 14 essays: a word of one essay.
RARE_SHARE = 0.1
# How far after "about" the thing pointed at may start ("about working at the taco truck").
WINDOW = 5
# A word right after one of these names a thing: "your soccer team", "about the taco truck".
_DETERMINER = frozenset({"your", "the", "a", "an", "my", "his", "her", "their", "our"})
# A piece of the essay: with "of" or "on" after it, what follows is what that piece is about
# ("your example of the hurricane", "the section on volcanoes", "the story of your dog").
_PIECES = frozenset("""
part parts section sections bit paragraph paragraphs example examples story stories description
descriptions discussion account anecdote anecdotes memory mention picture
""".split())
_OF = frozenset({"of", "on"})
# "you" and one of these: what follows is what the student told ("where you describe the
# treehouse", "when you mention skateboarding").
_TELLING = frozenset("""
talk talks talked talking describe describes described describing discuss discusses discussed
discussing mention mentions mentioned mentioning tell tells told telling explain explains explained
share shared recount recounts recounted
""".split())
# A teacher's judgement of what follows, no thing of the essay: "you tell a vivid story", "your
# example of a strong hook".
_JUDGING = frozenset("""
strong stronger strongest weak weaker clear clearer vivid good better best great powerful
convincing specific detailed short long interesting engaging effective real fair
""".split())
_ORDINALS = frozenset("first second third fourth fifth last next".split())
# Words of a phrase taken in a row: "the taco truck", "going fishing", "the science fair" (the
# first alone was "going", everyone's word, and "broken" of "the broken bicycle").
RUN = 2
# Where the phrase after "about" ends: its verb or the next clause ("about aliens | is handled").
_PHRASE_END = frozenset("""
is are was were be been being has have had do does did should could would will can may might
must shall and but or so because if when while than then which that who
""".split())
# Words about writing that the instruction words and aspects lack, and those of an argument: a
# remark on "the opposing view" or "the theory" is written on the essay that argues it, which
# uses the word ("Your example of the opposing view is answered well.").
_WRITING = frozenset("""
vocabulary grammar syntax cohesion phraseology conventions tone voice style hook reader readers
audience story stories word words choice choices phrase phrases expression expressions idioms
opinion point points topic argument writing ideas thoughts analysis focus purpose overall
introduction intro conclusion counterargument counterarguments counterclaim counterclaims rebuttal
reasoning main body opening final title work use thesis claim claims idea paragraph paragraphs
sentence sentences run detail details example examples explanation response answer essay draft
structure organization organisation transition transitions flow language spelling punctuation
research source sources quote quotes quotation citation evidence author
description descriptions discussion account anecdote anecdotes personal experience experiences
view views viewpoint viewpoints side sides opposing opposite opponent opponents perspective
perspectives position stance belief beliefs cause causes effect effects question questions
rhetorical theory theories reason reasons fact facts statement statements logic appeal appeals
""".split())
_POSSESSIVE = re.compile(r"['\u2019]s$")
_CLAUSE_END = re.compile(r"[,;:.!?()\"\u201c\u201d]")


def _about_writing(word: str, traits: frozenset[str]) -> bool:
    return (word in INSTRUCTION_WORDS or word in _WRITING or word in _JUDGING or word in _ORDINALS
            or word in traits
            or any(word.startswith(p) for prefixes in ASPECTS.values() for p in prefixes))


def pointed_at(sentence: str) -> list[str]:
    """The things a sentence names in the student's content, lower case: the word after "your",
    and the phrase after "about", after a piece of the essay with "of"/"on" and after "you" with
    a verb of telling (`_phrase`): "your story about working at the taco truck" -> story,
    working, taco, truck. After "your", only the first word: the second may be a verb ("your
    transitions guide the reader")."""
    found = []
    for clause in _CLAUSE_END.split(sentence.lower()):
        tokens = [_POSSESSIVE.sub("", w.lower()) for w in words(clause)]   # "the author's point": author
        for i, tok in enumerate(tokens):
            if tok == "your":
                # "your second body paragraph": the word after the ordinal is the thing.
                k = i + 2 if tokens[i + 1:i + 2] and tokens[i + 1] in _ORDINALS else i + 1
                if k < len(tokens) and tokens[k] not in STOPWORDS:
                    found.append(tokens[k])
            elif (tok == "about" or (tok in _OF and i > 0 and tokens[i - 1] in _PIECES)
                    or (tok in _TELLING and i > 0 and tokens[i - 1] == "you")):
                found += _phrase(tokens[i + 1:i + 1 + WINDOW])
    return found


def _phrase(after: list[str]) -> list[str]:
    """The words of a phrase that may name a thing: the first, one after a determiner, and up to
    `RUN` in a row from there ("going fishing", "the broken bicycle"); it ends at a verb or a
    clause word ("about aliens | is handled")."""
    found, run = [], 0
    for j, word in enumerate(after):
        if word in _PHRASE_END:
            break
        # A word in -s after the first is more often the verb than a noun's second part ("the
        # evidence needs", "skateboarding shows"; "the soccer games" is still found by "soccer").
        follows = 0 < run < RUN and not word.endswith("s")
        if word not in STOPWORDS and (j == 0 or after[j - 1] in _DETERMINER or follows):
            found.append(word)
            run += 1
        else:
            run = 0
    return found


class _Usual:
    """The words of the course that are everyone's: the prompt's, those of at least
    `RARE_SHARE` of the graded essays, and words about writing."""

    def __init__(self, index: CourseIndex):
        df = Counter()
        self.essay_words = []   # per graded essay: its words, lower case
        for ex in index.examples:
            self.essay_words.append(frozenset(w.lower() for w in words(ex.text or "")))
            df.update(self.essay_words[-1])
        floor = RARE_SHARE * len(index.examples)
        self.common = frozenset(w for w, n in df.items() if n >= floor and n >= 2)
        self.prompt = frozenset(w.lower() for w in words(index.assignment.prompt))
        self.traits = frozenset(w.lower() for t in index.assignment.traits
                                for w in words(str(t["name"]).replace("_", " ")))

    def names_content(self, sentence: str, essay_words: frozenset | None = None) -> bool:
        """`essay_words`: the words of the essay the comment was written on; a thing of that essay
        is named in it ("your taco truck" on an essay about the taco truck). A word it does not
        use ("your counterargument", "your introduction") is about the writing, however rare."""
        return any(not (w in self.common or w in self.prompt or w.endswith("ly")
                        or _about_writing(w, self.traits) or (essay_words is not None and w not in essay_words))
                   for w in pointed_at(sentence))


# Per course index (one per course state, `cache`): its usual words and the sentences kept.
_SEEN: "weakref.WeakKeyDictionary[CourseIndex, tuple[_Usual, list[Candidate]]]" = weakref.WeakKeyDictionary()


def _course(index: CourseIndex) -> tuple[_Usual, list[Candidate]]:
    seen = _SEEN.get(index)
    if seen is None:
        usual = _Usual(index)
        seen = _SEEN[index] = (usual, [c for c in index.candidates
                                       if not usual.names_content(c.text, usual.essay_words[c.example])])
    return seen


def names_content(index: CourseIndex, sentence: str, essay_text: str | None = None) -> bool:
    """True when `sentence` points at something of one essay of this course (see above); with
    `essay_text` (the essay it was written on), only at something that essay names."""
    essay = None if essay_text is None else frozenset(w.lower() for w in words(essay_text))
    return _course(index)[0].names_content(sentence, essay)


def reusable(index: CourseIndex) -> list[Candidate]:
    """The course's candidate sentences less those about one student's own content."""
    return _course(index)[1]
