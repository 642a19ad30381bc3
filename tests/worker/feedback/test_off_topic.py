"""An essay that does not answer the assignment gets no teacher sentences, only a flag."""
from __future__ import annotations

from worker.feedback.compose import OFF_TOPIC_TEXT, compose_feedback

from .conftest import read_rows

TRAIT_SCORES = {"evidence": 2, "organization": 2, "conventions": 2, "voice": 2}


def _check_flagged(fb):
    assert fb.kinds()[0] == "off_topic" and fb.text.startswith(OFF_TOPIC_TEXT)
    assert "teacher" not in fb.kinds() and "generated" not in fb.kinds()
    assert all(p["evidence"]["source"] != "teacher_comment" for p in fb.parts if p["kind"] == "trait")
    assert fb.text.count(OFF_TOPIC_TEXT) == 1


def test_keyboard_mash_is_flagged_not_praised(course, trait_assignment):
    fb = compose_feedback("asdf jkl qwer uiop zxcv " * 30, 3, TRAIT_SCORES, trait_assignment,
                          course, generator=False)
    _check_flagged(fb)
    assert fb.parts[0]["evidence"]["top_similarity"] < 0.2


def test_essay_for_another_prompt_is_flagged(course, trait_assignment, shared_data):
    other = read_rows(shared_data, "train", "2")[:20]
    flagged = 0
    for row in other:
        fb = compose_feedback(row["full_text"], 3, TRAIT_SCORES, trait_assignment, course,
                              generator=False)
        if fb.kinds()[0] == "off_topic":
            _check_flagged(fb)
            flagged += 1
    assert flagged >= 16


def test_on_topic_essays_are_not_flagged(course, held_out, trait_assignment):
    for text, score in held_out[:60]:
        fb = compose_feedback(text, score, TRAIT_SCORES, trait_assignment, course, generator=False)
        assert "off_topic" not in fb.kinds() and OFF_TOPIC_TEXT not in fb.text


def test_an_essay_the_course_model_found_unusual_is_flagged_the_same_way(course, held_out, trait_assignment):
    """The scorer's own check (AiProposal.unusual) decides too: an essay it held back as unlike
    the course's gets the same plain note, even where retrieval similarity alone would not flag it."""
    text, score = held_out[0]
    plain = compose_feedback(text, score, TRAIT_SCORES, trait_assignment, course, generator=False)
    assert "off_topic" not in plain.kinds()
    fb = compose_feedback(text, score, TRAIT_SCORES, trait_assignment, course, generator=False,
                          unusual=["It uses almost none of the words the course's essays use."])
    _check_flagged(fb)
    assert fb.parts[0]["evidence"] == {"unusual": ["It uses almost none of the words the course's essays use."]}


def test_an_answer_unlike_the_graded_ones_is_not_told_it_misses_the_prompt(course, held_out, trait_assignment):
    """Only the reasons that mean "no answer to this assignment" (another assignment's words,
    random text) flag an essay off topic. A long, on-topic essay the model held back for its
    length gets its ordinary feedback (it still waits for the teacher)."""
    from worker.ml import topic
    from worker.ml.envelope import CHECKS

    text, score = held_out[0]
    longer = f"{CHECKS['log_words'][3]} (1400 words)"
    fb = compose_feedback(text, score, TRAIT_SCORES, trait_assignment, course, generator=False,
                          unusual=[longer, f"{CHECKS['mean_sentence_words'][3]} (48 words per sentence)"])
    assert "off_topic" not in fb.kinds() and OFF_TOPIC_TEXT not in fb.text
    assert fb.text == compose_feedback(text, score, TRAIT_SCORES, trait_assignment, course, generator=False).text
    # Many unknown words: a weak speller's essay too, not proof that it misses the prompt.
    speller = compose_feedback(text, score, TRAIT_SCORES, trait_assignment, course, generator=False,
                               unusual=[f"{CHECKS['oov_ratio'][3]} (31% of its words)",
                                        f"{CHECKS['type_token_ratio'][3]} (vocabulary index 9.1)"])
    assert "off_topic" not in speller.kinds()
    elsewhere = topic.reason({"anchors": ["face", "mars", "landform", "nasa"], "need": 2}, "Cars pollute.")
    moved = compose_feedback(text, score, TRAIT_SCORES, trait_assignment, course, generator=False,
                             unusual=[longer, elsewhere])
    assert moved.kinds()[0] == "off_topic" and moved.parts[0]["evidence"]["unusual"] == [elsewhere]
