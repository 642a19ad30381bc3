"""What must never travel from one student's comment to another student's feedback."""
from __future__ import annotations

import pytest

from .conftest import PROMPT, VOICE
from worker.feedback.comments import prompt_ngram_set, reusable_sentences
from worker.feedback.textstats import words

OTHER_ESSAY = "The Face on Mars is a mesa and the article shows why with photos from Viking."
# The course's words: names that are also common words ("mark", "will") are among them.
KNOWN = frozenset(w.lower() for w in words(
    PROMPT + " " + " ".join(s for v in VOICE.values() for s in v)
    + " however overall this strong argument mark will grace transitions missing body"))

# The course teacher's sentences, all reusable but "you state ..." (dropped on purpose: it
# usually reports what this student stated).
TEACHER_VOICE = [s for v in VOICE.values() for s in v if not s.startswith("You state")]


def _kept(sentence: str) -> bool:
    return bool(reusable_sentences(sentence, OTHER_ESSAY, KNOWN, prompt_ngram_set(PROMPT)))


@pytest.mark.parametrize("sentence", [
    "Jordan did a nice job finding evidence from the article and explaining it.",
    "Jordan: your claim is clear and the evidence from the article supports it.",
    "Priya - your claim is clear and the evidence from the article supports it.",
    "Mark, your claim is clear and the evidence from the article supports it.",
    "Will, remember to explain each piece of evidence from the article fully.",
    "Kwame really needs to explain each piece of evidence from the article.",
    "Marcus used the article well but needs a stronger conclusion.",
])
def test_sentences_addressed_to_a_student_are_dropped(sentence):
    assert not _kept(sentence)


@pytest.mark.parametrize("sentence", [
    "Mark needs more evidence from the article to support the main claim.",
    "Will should add a counterargument about the aliens before the conclusion.",
    "Grace needs to proofread the essay for spelling before handing it in.",
    "JORDAN needs more evidence from the article to support the claim.",
])
def test_course_members_names_that_are_common_words_or_in_capitals_are_dropped(sentence):
    """"Mark", "Will", "Grace" are English words (and the course's own: "mark", "will"), so only
    the course's roster tells them for names; a name in capitals is no acronym English knows."""
    names = frozenset({"mark", "lee", "will", "grace", "jordan"})
    assert not reusable_sentences(sentence, OTHER_ESSAY, KNOWN, prompt_ngram_set(PROMPT), names=names)


@pytest.mark.parametrize("sentence", [
    "You will need more evidence from the article to support the main claim.",
    "NASA took the photos that show the landform is a natural mesa.",
    "Explain each piece of evidence from the article, as the FAQ says.",
])
def test_lower_case_words_and_acronyms_are_not_names(sentence):
    assert reusable_sentences(sentence, OTHER_ESSAY, KNOWN, prompt_ngram_set(PROMPT),
                              names=frozenset({"will", "mark"}))


@pytest.mark.parametrize("sentence", [
    "In the next draft, explain how each piece of evidence supports the claim.",
    "An example from the article would make this claim much stronger.",
    "Do not forget to explain the evidence from the article in your own words.",
    "My advice: explain each piece of evidence from the article before the next.",
])
def test_names_that_are_function_words_do_not_swallow_ordinary_openers(sentence):
    """Students named An, In, Do or My: the sentence opener is still an opener (a name only as
    the subject of a verb, "Will should add ...")."""
    assert reusable_sentences(sentence, OTHER_ESSAY, KNOWN, prompt_ngram_set(PROMPT),
                              names=frozenset({"an", "in", "do", "my", "will"}))


@pytest.mark.parametrize("sentence", [
    "Your claim is clear.  It is supported well by the facts.",
    "Explain each piece of evidence.",
    "Remember, each piece of evidence needs its own explanation.",
    "Overall, this is a strong argument about the landform.",
    "Transitions are missing between your body paragraphs.",
    "Proofread for spelling before you submit your essay.",
    "Counterclaims are where you answer the people who believe in aliens.",
    *TEACHER_VOICE,
])
def test_ordinary_teacher_sentences_are_kept(sentence):
    assert _kept(sentence)


COMPOSED = ("Add at least two pieces of evidence from the article and explain each one.\n\n"
            "- This essay has 244 words. Half of the essays graded 4 or higher for this assignment "
            "have 393–502 words, and all of them are longer than this essay.\n"
            "- This essay has 244 words; essays graded 4 or higher for this assignment usually have "
            "393–502 words.\n"
            "- The essay is a single sentence of 48 words.\n"
            "- The essay has only 2 sentences (61 words).\n"
            "- The essay is written as a single sentence of 544 words: split it into sentences that "
            "each make one point and end with a full stop.\n"
            "- The essay is written as 2 sentences of 506 words in all: split it into sentences that "
            "each make one point and end with a full stop.\n"
            "- The essay has 3 paragraphs; essays graded 4 or higher here usually have 5–6.\n"
            "- 1 of its 2 paragraphs runs over 200 words (the longest has 260).\n"
            "- 1 of its 3 paragraphs is very long (431 words); most essays graded 4 or higher have "
            "no paragraph longer than 253 words.\n"
            "- 2 of its 4 paragraphs are very long (the longest has 260 words; a paragraph of over "
            "200 words is hard to follow).\n"
            "- 13 words look misspelled: becuase, thier, alot, wich, dont, sayed and 7 more.\n"
            "- Mechanics: \"i\" is written in lower case 3 times.\n"
            "- Capital letters and typos: \"i\" is written in lower case 3 times; a word is "
            "repeated: \"to to\".\n"
            "- Typos: 2 missing spaces after punctuation.\n"
            "- Sentences: 2 sentences run over 40 words (the longest has 63).\n"
            "- Sentences: the sentence starting \"When the Viking 1 spacecraft was\u2026\" has 51 "
            "words; try splitting it.\n"
            "- Sentences: 2 sentences have more than 40 words: the ones starting \"Some people "
            "think that the\u2026\" (45 words) and \"NASA took a picture of\u2026\" (42 words); "
            "try splitting them.\n"
            "- The essay has only 5 words; about half of the graded essays for this assignment "
            "have more than 317 words.\n"
            "- The essay does not quote the article; more than half of the essays graded 4 or "
            "higher quote it at least once.\n"
            "- The essay does not quote the source; 60% of the essays graded 4 or higher quote it "
            "at least once. It uses 2 of the prompt's key terms (face, mars); essays graded 4 or "
            "higher typically use 5. Not used: landform, butte, mesa.\n\n"
            "Organization (2 of 4): Your paragraphs need topic sentences so the organization is "
            "easier to follow.\n"
            "Evidence: 2 of 4 (the course's 300 graded essays: median 2, 40% scored higher).\n"
            "Conventions: 3 of 4 (about 4 in 10 essays graded for this assignment scored higher).\n"
            "Organisation & structure: 3 of 5 (about 4 in 10 essays graded for this assignment scored higher).\n"
            "Ideas & voice (2 of 4): Your ideas need examples from the article to be convincing.\n"
            "Voice: 3 of 4.")


def test_composed_points_and_trait_lines_are_never_teacher_sentences():
    from worker.feedback.compose import LINK_ONLY_TEXT, NO_WORDS_TEXT, NOT_ENGLISH_TEXT, OFF_TOPIC_TEXT

    repeats = "The essay repeats the same passage: 12 of its 30 sentences are word-for-word copies of earlier ones."
    kept = reusable_sentences("\n".join((COMPOSED, OFF_TOPIC_TEXT, NOT_ENGLISH_TEXT, LINK_ONLY_TEXT, NO_WORDS_TEXT,
                                         repeats)), OTHER_ESSAY, KNOWN, prompt_ngram_set(PROMPT))
    assert kept == ["Add at least two pieces of evidence from the article and explain each one."]


# A classmate's name typed in lower case: only the course roster tells it for a name.
CLASSMATE_LEAK = ("The argument in this essay is nearly identical to the one nina handed in last week, "
                  "so both of you will redo it.")
ROSTER = frozenset({"nina", "ng", "jordan", "will", "hope", "mark", "may", "grace", "bill", "an", "do"})


def _kept_with_roster(sentence: str) -> bool:
    return bool(reusable_sentences(sentence, OTHER_ESSAY, KNOWN, prompt_ngram_set(PROMPT), names=ROSTER))


@pytest.mark.parametrize("sentence", [
    CLASSMATE_LEAK,
    "Your claim about the landform is much like the one nina made in her essay.",
    "Compare your evidence from the article with jordan's paragraph about the mesa.",
    "Ask ng to explain each piece of evidence from the article with you.",
])
def test_lower_case_roster_names_are_dropped(sentence):
    assert not _kept_with_roster(sentence)


@pytest.mark.parametrize("sentence", [
    "This essay was copied from an article about the landform on the internet.",
    "Both of you need to explain the evidence from the article in your own words.",
    "Your classmate wrote almost the same conclusion about the landform.",
    "This paragraph reads like someone else's work about the mesa.",
    "Parts of this essay look plagiarized from a website about the Face.",
    "Cheating on an essay about the landform means a zero for everyone involved.",
    "The essay you handed in last week had the same claim and evidence.",
])
def test_sentences_about_another_students_work_or_misconduct_are_dropped(sentence):
    assert not _kept(sentence)


@pytest.mark.parametrize("sentence", [
    "Your evidence is strong but the conclusion repeats the introduction.",
    "You will need more evidence from the article to support the main claim.",
    "I hope you mark each claim that the article may support in your next draft.",
    "Do not forget to explain the evidence from the article in your own words.",
    "An example from the article would make this claim much stronger.",
    *TEACHER_VOICE,
])
def test_ordinary_sentences_stay_reusable_with_a_roster(sentence):
    """Roster names that are common English words ("will", "hope", "mark", "may") are words in lower case."""
    assert _kept_with_roster(sentence)


def test_a_classmates_name_never_reaches_another_students_feedback(course, held_out, assignment):
    """Real essays: every comment also says whose essay it resembles, with the name in lower case."""
    from worker.feedback.compose import compose_feedback
    from worker.feedback.records import GradedExamples

    leaky = GradedExamples([ex._replace(comment=f"{ex.comment} {CLASSMATE_LEAK}") for ex in course],
                           names=ROSTER)
    for text, score in held_out[:20]:
        fb = compose_feedback(text, score, {}, {**assignment, "id": 601}, leaky, max_sentences=4)
        teacher = [p["text"] for p in fb.parts if p["kind"] == "teacher"]
        assert teacher and not any("nina" in t or "both of you" in t for t in teacher)
