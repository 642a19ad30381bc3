"""A teacher's sentence about one student's private circumstances never reaches another student.

Found in a teacher walkthrough: "Because of your dyslexia accommodations, spelling was not marked
down this time." and "I know things have been hard at home since your parents split up, so I gave
you an extension." were shown word for word to other students. Essays talk about families, homes
and hospitals too, so the advice about THAT content must still travel.
"""
from __future__ import annotations

import pytest

from .conftest import PROMPT
from .test_reuse_guards import KNOWN, OTHER_ESSAY
from worker.feedback.comments import prompt_ngram_set, reusable_sentences

ROSTER = frozenset({"grace", "will", "mark", "hope", "nina", "jordan", "emily"})


def _kept(sentence: str) -> bool:
    return bool(reusable_sentences(sentence, OTHER_ESSAY, KNOWN, prompt_ngram_set(PROMPT), names=ROSTER))


@pytest.mark.parametrize("sentence", [
    # health, disability, learning support
    "Because of your dyslexia accommodations, spelling was not marked down this time.",
    "Your IEP allows a shorter essay, so the length was not held against the grade.",
    "With your 504 plan I only graded the first two paragraphs for conventions.",
    "I know your ADHD makes long essays hard, so focus on one strong paragraph.",
    "I spoke with the school counselor about how the essays are going for you.",
    "Since you were in hospital for most of the unit, the evidence section is graded lightly.",
    "I know your new medication has made it hard to focus during writing time.",
    # family and home
    "I know things have been hard at home since your parents split up, so I gave you an extension.",
    "As we discussed with your mum at parents evening, the conclusion still needs work.",
    "Please ask your dad to sign the planner so I know the essay was read at home.",
    "Given your family situation this term, I graded the draft instead of the final essay.",
    "I am sorry about everything going on at home right now, and the grade can wait.",
    # discipline and attendance
    "You can finish the conclusion after your detention this week.",
    "Because you were absent for most of the unit, the evidence section is missing.",
    "Your suspension meant you missed the lesson on counterclaims.",
    "Ten points were taken off as a late work penalty.",
    # arrangements
    "As we talked about in our meeting, add a counterclaim before the conclusion.",
    "You were given extra time, so the essay should have been longer.",
    "As discussed, I will accept a second draft of the essay next week.",
    # faith and immigration, where a teacher might mention them
    "I know you were fasting, so the timed essay was harder than usual.",
    "Your visa interview meant you missed the essay planning lesson.",
    # found by the diff review: more of the same kinds
    "I am so sorry for your loss, and the essay can wait until next week.",
    "I know your mental health has been difficult, so take the time you need.",
    "Your social worker asked me to send home a copy of this essay.",
    "Thank you for looking after your little sister while writing this.",
    "Given your pregnancy, the deadline for the final draft has moved.",
    "Because of your hearing aid problems, the listening part was not graded.",
    "As your SENCO suggested, I only marked the first two paragraphs.",
    "I know you're pregnant, so take breaks during the timed essay.",
    "Since you moved in with your aunt, the planning sheet has gone missing.",
    "Your panic attacks during timed writing are nothing to be ashamed of.",
    "Your EAL status means the conventions score is not counted this term.",
    # a classmate addressed by a first name that is also an everyday word
    "grace, use more evidence from the article.",
    "will, explain each piece of evidence from the article.",
    "emily, add a counterclaim about the aliens.",
])
def test_sentences_about_private_circumstances_are_dropped(sentence):
    assert not _kept(sentence)


@pytest.mark.parametrize("sentence", [
    "Your point about families eating together needs a source.",
    "Your family example supports the claim about the landform.",
    "Explain why students who learn at home might miss the science lessons.",
    "Your argument that parents should limit phone use needs evidence from the article.",
    "The claim that hospitals would be busier needs a number to back up the point.",
    "Give yourself extra time to proofread before you submit.",
    "Your conclusion is missing a restatement of the claim.",
    "An extension of your argument would answer the people who believe in aliens.",
    "Spend more time planning the order of your reasons.",
    "Discuss the evidence from the article in your own words.",
    "Your point that disabled drivers would benefit needs a source.",
    # essay content and class teaching, found by the diff review
    "Your point that divorce hurts children needs evidence from the article.",
    "Your argument against detention needs a second reason.",
    "The claim about foster care needs a statistic to back it up.",
    "The essay discusses accommodations for disabled drivers without a source.",
    "The story moves on too quickly after the father passed away.",
    "As discussed in class, every paragraph needs a topic sentence.",
    "We talked about this in class: a counterclaim needs a rebuttal.",
    "Your faith in technology needs evidence from the article.",
    "Schools should hire more counselors is a claim that needs a source.",
    "Well, the evidence from the article is strong, but the conclusion is thin.",
    "Remember, every claim needs evidence from the article.",
    "I hope you will use more evidence from the article next time.",
])
def test_writing_advice_about_essay_content_is_kept(sentence):
    assert _kept(sentence)
