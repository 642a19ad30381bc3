"""Does a teacher's sentence lean on the sentence before it? Such a sentence cannot be reused.

A reused sentence reaches a student who never saw the rest of its comment, so "Add more evidence
to support it." or "This is your strongest point." points at nothing. Three signs, each tried on
realistic teacher wording (tests/worker/feedback/test_referents.py):
- it opens on a pronoun standing for something said before: "It ...", "They ...", "He/She ...",
  or "This/That/These/Those" not followed by a noun ("This is ...", "That way ...", "These are
  ..."). Kept: a noun after the demonstrative ("This essay ...", "These paragraphs ..."), "It is
  clear that ..." and its kin (the "it" stands for the clause that follows), "This is a well
  organized argument" (the essay itself), "That said, ...";
- it ends on "it/this/that/them/these/those" with nothing in the sentence to stand for:
  "... to support it." Kept when the sentence starts by naming its subject ("Your reasons need
  facts to support them.") or names something before a second clause ("Add evidence from the
  article and explain it.", "Your thesis is good, but you need to develop it.");
- it opens on a word that continues the sentence before: "Also,", "But", "However,", "Then",
  "Otherwise", "Still,", "And" ...
"""
from __future__ import annotations

import re

_PERSONAL = frozenset({"it", "it's", "they", "they're", "them", "he", "she"})
_DEMONSTRATIVE = frozenset({"this", "that", "these", "those", "this's", "that's"})
# A word after a demonstrative that makes it a pronoun ("This is", "That way", "These all").
# Nouns can't be listed, so the verbs and function words that follow a pronoun are.
_AFTER_PRONOUN = frozenset("""
is was are were be been will would could should can may might must shall has have had
do does did doesn't don't didn't isn't wasn't aren't weren't won't can't
make made need needed show showed help helped mean gave give sound seem look read work
add added take took tell told prove support explain suggest lead led
one ones way also really just still all both alone again too
""".split())
# A third-person verb after "This"/"That" ("This makes", "That shows"); nouns ending in "s"
# ("thesis", "focus", "class", "analysis") are told by their last letters.
_VERB_S = re.compile(r"^[a-z]+[^su]s$")
# "It is clear that ...", "It would help to ...", "It looks like you ...": the "it" stands for
# the clause after, which must say something ("It is hard to follow." has nothing after "to"
# but its verb: there "it" is the essay or a part of it).
_EXPLETIVE_IT = re.compile(
    r"^it(?:'s| is| was| would be| will be| can be| could be| may be| might be| seems| seemed"
    r"| looks| looked| sounds| feels| felt| helps| would help| will help| might help| may help)"
    r"(?: [a-z']+){0,2}? (?:that|to|how|why|whether|when|if|like|as if)(?: [a-z']+){2}")
# "This is a well organized argument": the commented work itself, as true of any essay read.
_THE_WORK = re.compile(r"^this (?:is|was) (?:a|an|the)(?: [a-z'-]+){0,3}? "
                       r"(?:essay|argument|response|draft|paper|piece of writing|letter)\b")
# "That said, ..." is kept: the clause after it carries the whole point on its own.
_CONCESSION = re.compile(r"^that (?:said|being said)\b")
# "Instead of ..." and "Besides the photos, ..." name what they set aside; "Instead, ..." and
# "Besides, ..." do not.
_CONTINUING = re.compile(
    r"^(?:(?:also|and|but|however|otherwise|then|still|plus|yet|again|likewise|similarly"
    r"|additionally|furthermore|moreover|in addition|on the other hand|even so|for example"
    r"|for instance)\b|instead\b(?! of)|besides,)")
_TRAILING = re.compile(r"\b(?:it|this|that|them|these|those)\W*$")
# Something the sentence names, which a closing pronoun can stand for.
_NAMED = r"(?:a|an|the|your|my|our|their|his|her|its|each|every|this|that|these|those|any)\s+[a-z]"
# A second clause: the thing named before it can be the closing pronoun's antecedent. In a single
# clause ("Add more evidence to support it.") the named thing is what supports, not the "it".
_SECOND_CLAUSE = (r"(?:[,;:]|\s(?:and|but|so|or|then|before|after|if|when|because|instead|rather"
                  r"|while|until|unless|since))\s")


def _plain(sentence: str) -> str:
    return " ".join(re.sub(r"^\W+", "", sentence.replace("\u2019", "'")).lower().split())


def _opens_on_pronoun(s: str) -> bool:
    first, _, rest = s.partition(" ")
    first = first.rstrip(",;:.!?")
    if first in _PERSONAL:
        return not (first.startswith("it") and _EXPLETIVE_IT.match(s))
    if first not in _DEMONSTRATIVE:
        return False
    if first.endswith("'s") or not rest or s[len(first)] in ",;:.!?":
        return True
    after = rest.split(" ", 1)[0].strip(",;:.!?")
    if _CONCESSION.match(s) or _THE_WORK.match(s):
        return False
    return (after in _AFTER_PRONOUN or after.endswith("ly")
            or (first in ("this", "that") and bool(_VERB_S.match(after))))


def _ends_on_lost_object(s: str) -> bool:
    end = _TRAILING.search(s)
    if not end:
        return False
    before = s[:end.start()]
    # A second clause anywhere after the first thing named: `_NAMED.*_SECOND_CLAUSE` scanned the
    # rest of the sentence again from every thing named, seconds on one long comment sentence.
    named = re.search(_NAMED, before)
    return not (re.match(_NAMED, before)
                or (named and re.compile(_SECOND_CLAUSE).search(before, named.end())))


def leans_back(sentence: str) -> bool:
    """True when `sentence` refers to something only an earlier sentence said."""
    s = _plain(sentence)
    return bool(_CONTINUING.match(s)) or _opens_on_pronoun(s) or _ends_on_lost_object(s)
