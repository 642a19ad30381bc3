"""The topic check on real essays: a course's anchor words, its own essays left alone, essays
written for other prompts caught, and the check switched off where a course has no common topic."""
from __future__ import annotations

import pytest

from worker.ml import topic
from worker.ml.corpora import load_prompt

OTHER_TOPICS = ["0", "2", "3", "4"]   # Face on Mars, Seagoing Cowboys, Electoral College, Car-free cities


@pytest.fixture(scope="module")
def course(train_examples):
    return topic.fit(train_examples.texts)


def test_anchor_words_are_the_assignment_topic(course):
    assert course is not None and len(course["anchors"]) == topic.ANCHORS
    assert {"phones", "phone"} & set(course["anchors"]), course["anchors"]
    assert not {"the", "and", "that", "they"} & set(course["anchors"]), "common English words are never anchors"
    assert 1 <= course["need"] <= topic.NEED


def test_own_essays_pass_and_other_prompts_are_caught(course, persuade, shared_data):
    own = persuade.splits["test"].texts[:60]
    assert sum(topic.reason(course, t) is not None for t in own) <= 2
    for name in OTHER_TOPICS:
        other = load_prompt(shared_data / "persuade", name, splits=("train", "test")).splits["test"].texts[:20]
        caught = sum(topic.reason(course, t) is not None for t in other)
        assert caught >= 18, f"prompt {name}: {caught} of 20 caught"


def test_the_reason_names_the_missing_words(course):
    text = "The Electoral College should be abolished because the popular vote is fairer. " * 20
    why = topic.reason(course, text)
    assert why.startswith("it uses none of the words this assignment's graded essays share (such as “")
    assert "another assignment" in why and f"“{course['anchors'][0]}”" in why
    assert topic.reason(None, text) is None


def test_no_shared_topic_means_no_check():
    # Essays on unrelated everyday subjects share no word far more common than in English at large.
    texts = [f"My {thing} is nice and I like it a lot because it is good for me every day."
             for thing in ["dog", "house", "bike", "garden", "friend", "city", "book", "school", "song", "room"]]
    assert topic.fit(texts) is None
