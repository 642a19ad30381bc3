"""A simulated course on REAL essays: PERSUADE "The Face on Mars" (text-dependent, scored 1-6).

PERSUADE has scores but no teacher comments, so this teacher's voice is written here: each
score band has its own sentences about evidence, organisation and conventions, and every
comment is dressed the way real comments are (a greeting with the student's name, sometimes
a sentence quoting that student's essay, a sign-off naming the teacher) so the tests can check
that only reusable sentences travel to other students.
"""
from __future__ import annotations

import csv
import random
from pathlib import Path

import pytest

from worker.feedback.records import GradedExample

PROMPT = ("Read the article \"Unmasking the Face on Mars\". You have read the article. Imagine you "
          "are a scientist at NASA talking with someone who thinks the Face was created by aliens. "
          "Using information in the article, write an argumentative essay to convince someone "
          "that the Face is just a natural landform, a butte or mesa, as the Viking and Mars "
          "Global Surveyor photos of Cydonia show.")
TRAITS = [{"name": "evidence", "min": 1, "max": 4}, {"name": "organization", "min": 1, "max": 4},
          {"name": "conventions", "min": 1, "max": 4}, {"name": "voice", "min": 1, "max": 4}]

# The teacher's sentences by holistic score; the trait-named ones feed the per-trait lines.
VOICE = {
    1: ["You need to take a side on whether the Face is natural or made by aliens.",
        "Your evidence is missing, so go back to the article and find facts about the landform.",
        "Break your writing into paragraphs with one idea in each.",
        "Many spelling and capitalization mistakes make this hard to read, so proofread slowly."],
    2: ["Your claim is there but your reasons are thin and need more support.",
        "Add at least two pieces of evidence from the article and explain each one.",
        "Your organization jumps between ideas, so plan the order of your reasons first.",
        "Watch your conventions: spelling errors and run-on sentences get in the way."],
    3: ["You state a clear claim and give some evidence from the article.",
        "Explain how each piece of evidence proves the Face is a landform instead of only listing it.",
        "Your paragraphs need topic sentences so the organization is easier to follow.",
        "Proofread for conventions, especially spelling of words from the article."],
    4: ["Your argument is clear and most of your evidence comes from the article.",
        "Use transitions between paragraphs so your organization feels smoother.",
        "Quote the article directly at least once to make the evidence stronger.",
        "A few spelling errors remain, so check your conventions before you submit."],
    5: ["This is a well organized argument with strong evidence from the article.",
        "Your counterclaim about aliens is handled fairly and then answered with facts.",
        "Tighten your conclusion so it restates the claim in a fresh way.",
        "Your conventions are mostly clean, with only small slips."],
    6: ["Your argument is precise and every paragraph builds on the evidence before it.",
        "The organization of your essay is purposeful, from the hook to the conclusion.",
        "You weave quotations from the article into your own sentences skilfully.",
        "Your conventions are nearly flawless, which keeps the reader focused on your ideas."],
}
NAMES = ["Jordan", "Priya", "Mateo", "Aisha", "Liam", "Chen", "Sofia", "Kwame"]


def comment_for(i: int, score: int, essay: str) -> str:
    rnd = random.Random(i)
    picked = rnd.sample(VOICE[score], 3)
    parts = [f"Hi {NAMES[i % len(NAMES)]}, {picked[0]}", *picked[1:]]
    if i % 3 == 0:
        first = " ".join(essay.split()[:5]).strip('"')
        parts.append(f'You wrote "{first}" and that opening works well.')
    if i % 4 == 0:
        parts.append("Come see Ms. Okafor during lunch if you have questions.")
    return " ".join(parts)


def trait_scores_for(score: int, i: int) -> dict:
    rnd = random.Random(1000 + i)
    base = {1: 1, 2: 1, 3: 2, 4: 3, 5: 3, 6: 4}[score]
    return {t["name"]: max(1, min(4, base + rnd.choice((-1, 0, 0, 1)))) for t in TRAITS}


def read_rows(shared_data: Path, split: str, prompt: str = "0") -> list[dict]:
    with open(shared_data / "persuade" / prompt / f"{split}.csv", newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="session")
def course(shared_data):
    """300 graded Face-on-Mars essays with this teacher's comments and trait scores."""
    rows = read_rows(shared_data, "train")[:300]
    examples = []
    for i, r in enumerate(rows):
        score = int(r["holistic_essay_score"])
        examples.append(GradedExample(r["full_text"], score, trait_scores_for(score, i),
                                      comment_for(i, score, r["full_text"])))
    return examples


@pytest.fixture(scope="session")
def held_out(shared_data):
    return [(r["full_text"], int(r["holistic_essay_score"])) for r in read_rows(shared_data, "validation")]


@pytest.fixture()
def assignment():
    return {"id": 101, "prompt": PROMPT, "score_min": 1, "score_max": 6, "traits": []}


@pytest.fixture()
def trait_assignment():
    return {"id": 102, "prompt": PROMPT, "score_min": 1, "score_max": 6, "traits": TRAITS}


def absent_for(text: str, course, assignment) -> dict:
    """The faults `text` measurably does not have, as compose weighs them (`disproved`): the
    teacher's sentences claiming one of them are not reused for it."""
    from worker.feedback.cache import course_index
    from worker.feedback.disproved import absent_faults
    from worker.feedback.records import AssignmentView
    from worker.feedback.spelling import misspelled
    from worker.feedback.textstats import measure

    index = course_index(course, AssignmentView.of(assignment), None)
    return absent_faults(text, measure(text), misspelled(text, index.course_words),
                         [c.n_words for c in index.counts])
