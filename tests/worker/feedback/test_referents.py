"""A teacher's sentence lifted out of its comment must not point at something the reader never
saw: "Add more evidence to support it." (support what?), "This is your strongest point." (which
one?), "They need a source." (who?). Sentences that name what they talk about stay."""
from __future__ import annotations

import pytest

from .conftest import PROMPT
from .test_reuse_guards import KNOWN, OTHER_ESSAY
from worker.feedback.comments import prompt_ngram_set, reusable_sentences


def _kept(sentence: str) -> bool:
    return bool(reusable_sentences(sentence, OTHER_ESSAY, KNOWN, prompt_ngram_set(PROMPT)))


@pytest.mark.parametrize("sentence", [
    # a pronoun (or demonstrative without its noun) opening the sentence
    "This is your strongest point.",
    "This makes your argument weaker than it should be.",
    "That was a good choice for the opening of the essay.",
    "That way the reader can follow your reasons.",
    "It is the weakest part of the whole essay.",
    "It needs more evidence from the article.",
    "It is hard to follow.",
    "They need a source.",
    "These are good reasons, but explain each one.",
    "Those need to be cited from the article.",
    # ending on an object whose antecedent is in another sentence
    "Add more evidence to support it.",
    "Find facts in the article to support it.",
    "Make sure you give an example of it.",
    "Explain why you believe that.",
    "Try to expand on this.",
    "Add transitions between them.",
    # continuing the sentence before
    "Also, proofread your essay for spelling.",
    "But your conclusion needs to restate the claim.",
    "However, your conclusion needs to restate the claim.",
    "Otherwise the reader will not follow your reasons.",
    "Then explain how the photos prove the Face is a mesa.",
    "Still, the evidence from the article is thin.",
    "And remember to cite the article at least once.",
    "Instead, explain how the photos prove the Face is a mesa.",
])
def test_sentences_that_lean_on_an_earlier_one_are_refused(sentence):
    assert not _kept(sentence)


@pytest.mark.parametrize("sentence", [
    "This essay takes a clear side on the Face.",
    "This paragraph needs a topic sentence that states your reason.",
    "This is a well organized argument with strong evidence from the article.",
    "These paragraphs need transitions between them.",
    "Those who believe in aliens deserve an answer in your counterclaim.",
    "That said, your conclusion should restate the claim in new words.",
    "It is clear that your thesis answers the prompt.",
    "It is important to cite the article when you give a fact.",
    "It would help to add a counterclaim about the aliens.",
    "It looks like you ran out of time before the conclusion.",
    "Add evidence from the article and explain it.",
    "Your thesis is good, but you need to develop it.",
    "If you use a quote from the article, explain it.",
    "Your reasons need facts from the article to support them.",
    "Overall, this is a strong argument about the landform.",
    "Instead of listing facts from the article, explain them.",
    "Explain how each piece of evidence proves the Face is a landform instead of only listing it.",
    "Tighten your conclusion so it restates the claim in a fresh way.",
])
def test_self_contained_sentences_are_kept(sentence):
    assert _kept(sentence)
