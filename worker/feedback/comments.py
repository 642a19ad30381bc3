"""Cut a teacher's comment into sentences that can be reused for another student's essay.

A sentence is kept verbatim or dropped, never rewritten, so whatever reaches a student is
exactly what the teacher wrote. Dropped: greetings and sign-offs, bare praise ("Great job!"),
sentences naming someone (a capitalised word the course's essays and prompt never use, or
that is part of a course member's name; in lower case, a word of a course member's name that
is no common English word: "nina"; a word in capitals that is no acronym the course or
English knows; a first word addressed to the student: "Mark, ...", "Priya: ...", "Priya - ...", or a first word
that is neither a common English word nor a course word followed by a verb: "Jordan did ..."),
sentences tied to the commented essay: quoted text, "you wrote ...", "your second paragraph"
(not advice in a "when/if you mention ..." frame: "When you mention a source, name it."),
or a five-word run copied from that essay, sentences about another student's work or
misconduct ("handed in", "both of you", "plagiarism"), sentences about the reader's private
circumstances ("your dyslexia accommodations", "hard at home", "after your detention", "as we
discussed with your mum"), sentences that lean on the sentence before
them ("This is your strongest point.", "Add more evidence to support it.", "However, ...":
`referents.leans_back`), and Gradeloop's own composed lines (measured points, trait lines) should
an approved AI comment carry them in.

A comment written about people who are not on this course's roster (an imported grade: last
year's export, a course copy) cannot be checked against the roster, so its sentences pass a
stricter rule (`_stranger_named`): every capitalised word inside a sentence or clause is a name
unless the course writes it capitalised (the prompt's "Mars", "NASA"; `course_proper_nouns`),
and a first name that is also a word (`WORD_NAMES`: Will, Grace, Mark, Hope) opening a sentence
is a name when it acts ("Grace needs ..."), owns ("Mark's group") or is addressed.
"""
from __future__ import annotations

import re
from collections import Counter

from worker.feedback.referents import leans_back
from worker.feedback.spelling import case_use, common_words, english_words
from worker.feedback.textstats import STOPWORDS, split_sentences, words

MIN_WORDS = 4
_GREETING = re.compile(
    r"^\W*(hi|hello|hey|dear|thanks|thank you|see me|regards|best|cheers|sincerely|love)\b", re.I)
# "Hi Sam," / "Dear Sam -" opening a comment: cut off, the rest of the comment stays verbatim.
_OPENING = re.compile(r"^\s*(hi|hello|hey|dear|good (morning|afternoon))\b[^,!.:\n-]{0,40}[,!.:\n-]\s*",
                      re.I)
_BARE_PRAISE = re.compile(
    r"^\W*((very |really )?(great|good|nice|excellent|awesome|wonderful|super|fantastic)"
    r"( job| work| effort| essay)?|well done|keep (it )?up( the good work)?|way to go)\W*$", re.I)
_QUOTED = re.compile(r"[\"\u201c\u201d\u2018]|(^|\s)'\w[^']*\w'")
_YOU_WROTE = re.compile(
    r"\byou\s+(wrote|said|say|state|stated|mention|mentioned|claim|claimed|called|described)\b"
    r"|\b(your|the)\s+(first|second|third|fourth|fifth|last|final|opening|closing|\d+(st|nd|rd|th))"
    r"\s+(paragraph|sentence|line|point|example)\b", re.I)
# "When you mention the article, quote it.", "If you state a claim, back it up.": advice on a move
# any essay makes, not a report of what one essay says, so this frame is no "you wrote" (a thing
# of one essay after it, "when you mention kayaking on the lake", is `own_content`'s). Present
# tense only ("when you mentioned ..." is one essay), never with "that" ("if you say that ...").
_ADVICE_FRAME = re.compile(
    r"\b(when|whenever|if|each time|every time|any time|anytime|before|once|make sure|be sure)"
    r"\s+you\s+(say|state|mention|claim)\b(?!\s+that\b)", re.I)
_TITLE = re.compile(r"\b(Mr|Mrs|Ms|Miss|Dr|Mx)\.?\s+[A-Z]")
# A sentence about another student's work or about misconduct concerns people other than the
# reader; shown to another student verbatim it discloses it (or accuses them), names or not.
_OTHERS_WORK = re.compile(
    r"\bhanded (it |this |that )?in\b|\bcopied\b|\bplagiar\w*|\bcheat\w*|\bboth of you\b"
    r"|\b(your|a) classmates?\b|\bsomeone else['\u2019]?s\b|\banother student\b", re.I)
# A sentence about the reader's private circumstances (health, learning support, family, home,
# discipline, attendance, arrangements made with them, faith, immigration, money) shown verbatim
# to another student discloses them. Essays discuss families, divorce, detention, foster care,
# hospitals and disabled drivers too, and advice about THAT content must travel, so words an essay
# may be about count only in the second person ("your mum", "your little sister", "you were
# absent", "hard at home"); only words a comment uses of a student's own situation (dyslexia, IEP,
# SENCO, parents evening) count bare. "As discussed in class" is teaching, not an arrangement.
_YOUR = r"\byour\s+((new|own|recent|current|little|big|older|younger|baby|twin|late|medical|mental)\s+){0,2}"
_PRIVATE = re.compile(
    r"\bdyslexi\w*|\badhd\b|\biep\b|\b504\s+plan|\bsenco\b|\b(eal|esl|ell)\s+(status|support|register)\b"
    r"|\blearning\s+(support|difficult\w*|disabilit\w*)|\bspecial\s+(educational\s+)?needs\b"
    r"|\bparents['\u2019]?\s+evening|\bparent[- ]teacher\b|\bbereave\w*|\blate[- ](work\s+)?penalty\b"
    r"|\bsorry\s+(for|about)\s+your\s+loss\b|\b(the\s+school|the|your)\s+counsel+or\b(?!s)"
    r"|" + _YOUR + r"((step|grand)?(mum|mom|mam|ma|pa|dad|mother|father|parents?)|grand(ma|pa)|guardian|carers?"
    r"|aunt|uncle|cousin|brother|sister|siblings?|home\s+(life|situation)|(personal\s+|family\s+)?(situation|circumstances)"
    r"|family(?!\s+(examples?|story|stories|anecdotes?|experiences?|trips?|traditions?|dinners?))"
    r"|illness|condition(?!\s+(for|that|of)\b)|diagnosis|medication|medicine|therap(y|ist)|surgery|injury"
    r"|anxiety|depression|health|panic\s+attacks?|pregnancy|hearing(\s+aids?)?|wheelchair|disabilit\w*|autism"
    r"|loss|grief|funeral|social\s+worker|(first|second|home)\s+language|accommodations?|detention|divorce"
    r"|foster\s+\w+|absences?|attendance|suspension|exclusion|extension|extra time|sick\s+leave"
    r"|visa|immigration|citizenship|asylum|refugee status|religion|faith(?!\s+in\b)|finances|money)\b"
    r"|\byou(\s+(were|are|have been|'ve been|got)|['\u2019]re)\s+(absent|away|off sick|sick|ill|unwell"
    r"|in hospital|in the hospital|suspended|excluded|diagnosed|fasting|given extra time|pregnant|homeless)\b"
    r"|\b(hard|difficult|tough|rough|going on|happening|problems|trouble)\b[^.;]{0,30}\bat home\b"
    r"|\b(gave|given|give|granted|allowed|got)\s+(you\s+)?(an\s+|the\s+|some\s+)?(extension|extra time)\b"
    r"|\bwe\s+(discussed|talked about|spoke about|agreed)\b(?![^.;:]{0,25}\bin\s+(class|the lesson|lessons?)\b)"
    r"|\bas\s+discussed\b(?!\s+in\s+(class|the lesson|lessons?)\b)"
    r"|\b(our|your)\s+(meeting|conversation|chat|conference)\b", re.I)


# What Gradeloop itself composes (points.py, traits.py, compose.py): never a teacher sentence.
_MACHINE = re.compile(
    r"^\W*(the|this) (essay|answer) (has (only )?\d+ (words?|paragraphs?|sentences?)"
    r"|is a single (paragraph|sentence) of \d+|is written as (a single sentence|\d+ sentences) of \d+"
    r"|is only a link|has no words|repeats the same passage"
    r"|does not quote the \w+|does not seem to address)"
    r"|\b\d+ (word looks|words look) misspelled:"
    r"|^\W*(mechanics|capital letters|capital letters and typos|typos|sentences|not used):"
    r"|\b\d+ of its \d+ paragraphs? (runs? over \d+ words|(is|are) very long \()"
    r"|^\W*it uses \d+ of the prompt's key terms"
    r"|\b(essays|answers) graded [\d.]+ or higher\b"
    r"|\bthe course's \d+ graded essays?\b"
    # A trait's name as set-up allows it (letters, digits, spaces, "-", "_", "&"). Trait lines as
    # sent before: "(the course's 300 graded essays: ...)", "(about 4 in 10 essays graded for this
    # assignment scored higher)"; they live on in LMS gradebooks and come back in CSV imports.
    r"|^\W*\w[\w &-]{0,48} \(\d+(\.\d+)? of \d+(\.\d+)?\):"
    r"|^\W*\w[\w &-]{0,48}: \d+(\.\d+)?( of \d+(\.\d+)?)?(\.\s*$|\.\s+on an essay scored \d| \(the course's"
    r"| \(\w.* graded for this assignment scored higher\))"
    r"|^\W*on an essay scored \d+(\.\d+)?( of \d+(\.\d+)?)? for \w[\w &-]{0,48}, the teacher wrote:"
    r"|^\W*no essay text was received\b"
    r"|^\W*gradeloop gives written feedback\b", re.I | re.M)
# A sentence-initial word followed by ", " is a vocative ("Mark, ...") unless it is one of these.
_OPENERS = frozenset("""
however overall also first firstly second secondly third next then finally lastly again still
otherwise instead yes no ok okay now so well remember please sometimes here there thus
therefore meanwhile similarly likewise besides plus alright basically personally generally
honestly unfortunately fortunately additionally furthermore moreover today later sure true yet
although though while because if when since unless once after before
""".split())
# A word after a name that makes it the subject: "Jordan did ...", "Priya really ...".
_VERBISH = frozenset("""
is was has had did does do should could would will can may might must needs need made makes
wrote writes gave gives used uses shows showed showing explained explains tried tries seems seemed
really also always never clearly just still definitely obviously certainly worked works put puts
""".split())


# First names that are also English words: for a comment about people not on this roster, nothing
# else tells "Grace needs ..." from "Evidence needs ..." at the start of a sentence.
WORD_NAMES = frozenset("""
will grace mark hope may june april august rose faith joy bill frank summer autumn dawn drew pat
sue jack guy chase lily iris ruby amber crystal holly ivy jade pearl sky brook river dale glen
cliff rob don ray victor max miles grant hunter mason carter cooper taylor parker porter page sage
reed wade nick eve gene harmony heather hazel honey melody destiny charity patience prudence mercy
trinity unity serenity felicity constance verity liberty genesis haven meadow nova angel precious
bliss star storm sunny penny ginger candy cherry brandy sherry olive violet daisy poppy jasmine
willow laurel fern myrtle clay stone fox jay robin wren dove raven bob bobby harry jimmy jenny
sally molly polly patsy dot peg belle jean kay lee carol noel marshall bishop baker king duke earl
prince sterling rich earnest hank chip chuck bud buddy rusty sandy misty rocky kit ace scout bear
wolf lance pierce rex colt drake ash forest heath lane dean ford cash cole harper coral ivory
ebony jewel opal goldie diamond scarlet sierra aurora echo matt tom ken ben norman
""".split())


def _acts(sentence: str, tok: str) -> bool:
    """Is `tok` followed by a verb, as a subject is ("Jordan did ...", "Grace needs ...")?"""
    after = re.match(rf"^\W*{re.escape(tok)}\s+([A-Za-z]+)", sentence)
    return bool(after) and (after.group(1) in _VERBISH or (after.group(1).endswith("ed")
                                                          and after.group(1).islower()))


def _addressed(sentence: str, tok: str, known: frozenset[str]) -> bool:
    """Is the sentence's first word `tok` a student being addressed or talked about?"""
    low = tok.lower()
    base = low[:-2] if low.endswith("'s") else low
    if low in _OPENERS or low.endswith("ly"):
        return False
    if re.match(rf"^\W*{re.escape(tok)}\s*,", sentence):
        return True               # "Mark, your claim ..."
    if base in common_words() or base in known:
        return False
    if base.endswith("s") and base[:-1] in english_words():
        return False              # "Transitions are ..."
    if re.match(rf"^\W*{re.escape(tok)}\s*(:|\s[-\u2013\u2014]\s)", sentence):
        return True               # "Priya: ...", "Priya - ..."
    return _acts(sentence, tok)


def _subject(sentence: str, tok: str) -> bool:
    after = re.match(rf"^\W*{re.escape(tok)}\s+([A-Za-z]+)", sentence)
    return bool(after) and after.group(1).lower() in _VERBISH


def _roster_name_in_lower_case(base: str, names: frozenset[str]) -> bool:
    # Teachers type a classmate's name in lower case too ("... the one nina handed in"), and
    # such a sentence would reach another student verbatim; but a roster name that is also an
    # everyday word ("will", "hope", "mark", "may") in lower case is far more often that word.
    return base in names and base not in common_words()


def _roster_name_addressed(sentence: str, tok: str, names: frozenset[str]) -> bool:
    # "grace, use more evidence ...": a classmate addressed in lower case. Everyday words on the
    # roster ("grace", "will") pass mid-sentence, but addressed at the start they are the name;
    # openers ("well, ...", "so, ...") stay words.
    low = tok.lower()
    return (low in names and low not in _OPENERS
            and bool(re.match(rf"^\W*{re.escape(tok)}\s*[,:]", sentence)))


def _names(sentence: str, known: frozenset[str], names: frozenset[str] = frozenset()) -> bool:
    """A capitalised word the course never uses is taken to be a person's name, and so is any
    capitalised word that is part of a course member's name ("Mark needs ..."; `names`), or a
    lower-case one that is no common English word ("nina handed in ...")."""
    tokens = re.findall(r"[A-Za-z][A-Za-z'\-]*", sentence)
    for i, tok in enumerate(tokens):
        low = tok.lower()
        base = low[:-2] if low.endswith("'s") else low
        if not tok[0].isupper():
            if _roster_name_in_lower_case(base, names) or (i == 0 and _roster_name_addressed(sentence, tok, names)):
                return True
            continue
        if tok == "I":
            continue
        if base in names and (i > 0 or base not in STOPWORDS or _subject(sentence, tok)):
            # A sentence's first word that is also a function word ("In", "An", "Do", "My", "He",
            # "Will") names a student only as the subject of a verb ("Will should add ...").
            return True
        if tok.isupper():
            # Short capitals are acronyms (FAQ, NASA), longer ones too when the course uses the
            # word or English knows it; otherwise a name written in capitals ("JORDAN needs").
            if len(tok) >= 5 and base not in known and base not in common_words():
                return True
            continue
        if i == 0:
            if _addressed(sentence, tok, known):
                return True
            continue  # an ordinary sentence-initial capital
        if base not in known:
            return True
    return False


# Where a clause starts inside a sentence: its first word may be capitalised without being a name.
_CLAUSE = re.compile(r"[:;()\[\]\u2013\u2014]|\s-\s")


def _stranger_named(sentence: str, proper: frozenset[str]) -> bool:
    """Does a sentence of a comment about people not on this roster name someone? Any capitalised
    word inside a clause that the course does not write capitalised (`proper`), and a first name
    that is also a word opening a clause as a subject, an owner or addressed ("Grace needs ...",
    "Mark's group ...", "grace, ..."). Acronyms and names no English word shares are `_names`'s."""
    for clause in _CLAUSE.split(sentence.replace("\u2019", "'")):   # "Mark’s" as "Mark's"
        for i, tok in enumerate(re.findall(r"[A-Za-z][A-Za-z'\-]*", clause)):
            low = tok.lower()
            base = low[:-2] if low.endswith("'s") else low
            if i == 0:
                # "Grace needs ...", "Mark's group ...", "Hope: ..." (the clause is the name alone)
                if tok[0].isupper() and base in WORD_NAMES and (
                        base != low or _acts(clause, tok) or clause.strip(" ,.!?") == tok):
                    return True
                if _roster_name_addressed(clause, tok, WORD_NAMES):
                    return True
            elif tok[0].isupper() and tok != "I" and not tok.isupper() and base not in proper:
                return True       # "As I told Mark's group", "Great job on this, Hope!"
    return False


def course_proper_nouns(texts, prompt: str = "") -> frozenset[str]:
    """Words (lower case) the course writes capitalised inside a sentence: every one the prompt
    does, and those that more of the course's essays write so than in lower case, in at least 2
    of them and 3%: the topic's names ("Mars", "Viking", "English"), not a student's signature."""
    proper = set(case_use(prompt or "")[0])
    named, plain = Counter(), Counter()
    texts = list(texts)
    for text in texts:
        capitals, lower = case_use(text or "")
        named.update(capitals)
        plain.update(lower)
    floor = max(2, round(0.03 * len(texts)))
    proper.update(w for w, n in named.items() if n >= floor and n > plain[w])
    return frozenset(proper)


def _ngrams(tokens: list[str], n: int = 5) -> set[tuple]:
    return {tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1)}


def machine_written(sentence: str) -> bool:
    """A line Gradeloop composes itself (`_MACHINE`), never reused as a teacher's sentence: in an
    edited grade's comment too (a trait line restated with the teacher's score)."""
    return bool(_MACHINE.search(sentence))


def candidate_sentences(comment: str) -> list[str]:
    """The sentences of `comment` long enough to be reused, before any of the filters below: the
    greeting cut off, fewer than `MIN_WORDS` words left out. The erasure looks for these in
    classmates' feedback (lti_app/erasure_quotes.py)."""
    return [s for s in split_sentences(_OPENING.sub("", comment or "", count=1)) if len(words(s)) >= MIN_WORDS]


def reusable_sentences(comment: str, essay_text: str, known_words: frozenset[str],
                       prompt_ngrams: frozenset = frozenset(), *, names: frozenset[str] = frozenset(),
                       proper_nouns: frozenset[str] | None = None) -> list[str]:
    """Sentences of `comment` fit to show on a different essay, verbatim and in order. `names`:
    the words of the course's people's names, lower case (`loading.course_names`). `proper_nouns`:
    given (`course_proper_nouns`) for a comment about people not on the roster (an imported
    grade), whose sentences then pass the stricter `_stranger_named` too."""
    if not comment or not comment.strip():
        return []
    essay_grams = _ngrams([w.lower() for w in words(essay_text)])
    kept = []
    for sentence in candidate_sentences(comment):
        tokens = [w.lower() for w in words(sentence)]
        if (_GREETING.search(sentence) or _BARE_PRAISE.search(sentence) or _QUOTED.search(sentence)
                or _YOU_WROTE.search(_ADVICE_FRAME.sub(" ", sentence)) or _TITLE.search(sentence)
                or machine_written(sentence) or _OTHERS_WORK.search(sentence) or _PRIVATE.search(sentence)
                or leans_back(sentence) or _names(sentence, known_words, names)
                or (proper_nouns is not None and _stranger_named(sentence, proper_nouns))):
            continue
        if (_ngrams(tokens) - prompt_ngrams) & essay_grams:
            continue
        kept.append(sentence.strip())
    return kept


def prompt_ngram_set(prompt: str) -> frozenset:
    return frozenset(_ngrams([w.lower() for w in words(prompt)]))
