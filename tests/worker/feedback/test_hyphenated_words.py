"""The spelling list reads a hyphenated word as one: "pre" of "pre-tests", "multi" and "un" were
listed as misspellings, and so were correct forms of school words ("schoolers", "Homeschooled",
"extracurriculars") that the shipped English list lacks (found by a reviewer on ELLIPSE essays)."""
from __future__ import annotations

from worker.feedback.spelling import english_words, misspelled


def test_prefixes_and_compounds_are_not_misspellings():
    text = ("We did pre-tests and multi-tasking in un-American ways. Tri-state teen-agers mis-read it. "
            "Pre-tests came first.")
    assert misspelled(text) == []


def test_a_misspelled_part_of_a_hyphenated_word_is_still_listed():
    text = "It is a well-knwon fact. Becuase-of the photos, pre tests and multi-tasknig failed."
    # "pre" on its own, with no hyphen joining it to a word, is still no English word
    assert misspelled(text) == ["knwon", "Becuase", "pre", "tasknig"]


def test_forms_of_school_words_are_not_misspellings():
    text = ("Home schoolers and high schoolers take part. Homeschooled students do extracurriculars, "
            "and homeschoolers too. A schooler learns.")
    assert misspelled(text) == []
    # ...accepted by the spelling check only: the word list the scoring model's features read
    # (worker.ml.stylefeatures) stays as it was
    assert not {"schoolers", "homeschooled", "extracurriculars"} & english_words()
