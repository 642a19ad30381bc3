"""An essay unlike anything the course model learned from gets confidence 0 and a reason; real
essays of the same prompt are left alone; models trained before the check score as before."""
from __future__ import annotations

import json
import random
import shutil

import numpy as np
import pytest

from worker.ml import envelope, modelfiles, scorer
from worker.ml.textfeatures import FEATURE_NAMES, feature_matrix
from worker.ml.tokens import load_vocab

rng = random.Random(0)
JUNK = {
    "one endless word": "x" * 100_000,
    "two words": "I agree.",
    "keyboard mash": " ".join("".join(rng.choice("asdfghjkl") for _ in range(rng.randint(2, 9))) for _ in range(400)),
    "digits": " ".join(str(rng.randint(0, 10**6)) for _ in range(500)),
    "no punctuation": "students should use phones in school because they help us learn and talk to parents " * 30,
}


@pytest.fixture(scope="module")
def model_dir(exported):
    return exported[0]


def test_the_envelope_is_saved_with_the_model(model_dir, trained):
    meta = modelfiles.read_meta(model_dir)
    assert meta["envelope"] == trained.envelope
    assert meta["envelope"]["features"] == list(envelope.CHECKS)
    assert "phones" in meta["envelope"]["topic"]["anchors"]
    assert all(lo < hi for lo, hi in zip(meta["envelope"]["lo"], meta["envelope"]["hi"]))


@pytest.mark.parametrize("kind", list(JUNK))
def test_junk_gets_a_reason_and_no_confidence(model_dir, kind):
    (pred,) = scorer.score(model_dir, [JUNK[kind]])
    assert pred.unusual, f"{kind!r} was scored {pred.score} with confidence {pred.confidence:.2f} and no warning"
    assert pred.confidence == 0.0
    assert all(t["confidence"] == 0.0 for t in pred.traits.values())


def test_the_reason_says_what_is_unusual(model_dir):
    (short,) = scorer.score(model_dir, [JUNK["two words"]])
    assert any(r.startswith("much shorter than the essays the model learned from (2 words)") for r in short.unusual)
    # Its length is what is unusual: two words neither "repeat" words nor show a topic.
    assert not [r for r in short.unusual if "repeats" in r or "sentences" in r or "another assignment" in r], \
        short.unusual
    (run_on,) = scorer.score(model_dir, [JUNK["no punctuation"]])
    assert any("sentences are far longer" in r for r in run_on.unusual)


def _short_answer(essay: str) -> str:
    """The first sentences of a real essay, 20-40 words: an answer in a short-answer course."""
    out = []
    for sentence in essay.replace("\n", " ").split(". "):
        out.append(sentence)
        if len(" ".join(out).split()) >= 20:
            break
    return " ".join(" ".join(out).split()[:40])


@pytest.fixture(scope="module")
def short_answers(persuade, base_model):
    vocab = load_vocab(base_model)
    train = [_short_answer(t) for t in persuade.splits["train"].texts[:100]]
    return envelope.fit(feature_matrix(train, vocab), train), vocab


def test_a_short_answer_course_flags_one_word_repeated_but_not_its_answers(short_answers, persuade):
    env, vocab = short_answers
    answers = [_short_answer(t) for t in persuade.splits["test"].texts[:100]]
    assert sum(len(a.split()) < envelope.FEW_WORDS for a in answers) >= 30
    flagged = [(a, r) for a in answers if (r := envelope.reasons(env, feature_matrix([a], vocab)[0], a))]
    assert len(flagged) <= 3, flagged
    # Its length is usual here, so the length check cannot name it: the repetition check must.
    junk = "good " * 25
    assert any("repeats the same words" in r for r in envelope.reasons(env, feature_matrix([junk], vocab)[0], junk))


def test_an_essay_for_another_assignment_waits_for_the_teacher(model_dir, shared_data):
    from worker.ml.corpora import load_prompt

    mars = load_prompt(shared_data / "persuade", "0", splits=("train", "test")).splits["test"].texts[:10]
    preds = scorer.score(model_dir, mars)
    caught = [p for p in preds if any("written for another assignment" in r for r in p.unusual)]
    assert len(caught) >= 9, [p.unusual for p in preds]
    assert all(p.confidence == 0.0 for p in caught)


def test_real_essays_of_the_prompt_are_not_flagged(model_dir, persuade):
    texts = persuade.splits["test"].texts[:60]
    preds = scorer.score(model_dir, texts)
    flagged = [p for p in preds if p.unusual]
    # Measured 1-4% on courses of 50 essays (docs/models.md); this model learned from 60.
    assert len(flagged) <= 4, [p.unusual for p in flagged]
    assert any(p.confidence > 0 for p in preds)


def test_a_model_from_before_the_check_scores_as_before(model_dir, tmp_path):
    old = tmp_path / "old"
    shutil.copytree(model_dir, old)
    meta = json.loads((old / modelfiles.META).read_text())
    del meta["envelope"]
    (old / modelfiles.META).write_text(json.dumps(meta))
    (pred,) = scorer.score(old, [JUNK["two words"]])
    (new,) = scorer.score(model_dir, [JUNK["two words"]])
    assert pred.unusual == [] and pred.score == new.score and pred.raw == pytest.approx(new.raw)


def test_reasons_are_one_sided_where_only_one_side_is_odd():
    surface = np.zeros((20, len(FEATURE_NAMES)))
    surface[:, FEATURE_NAMES.index("oov_ratio")] = np.linspace(0.02, 0.1, 20)
    env = envelope.fit(surface)
    row = np.zeros(len(FEATURE_NAMES))
    row[FEATURE_NAMES.index("oov_ratio")] = -1.0          # below the range: no misspellings is fine
    assert envelope.reasons(env, row) == []
    row[FEATURE_NAMES.index("oov_ratio")] = 0.9
    assert [r.rsplit(" (", 1)[0] for r in envelope.reasons(env, row)] == [envelope.CHECKS["oov_ratio"][3]]
    assert envelope.reasons(None, row) == []


def test_a_one_word_essay_is_described_in_the_singular():
    import math

    from worker.ml.envelope import CHECKS

    show = CHECKS["log_words"][1]
    assert (show(math.log1p(1)), show(math.log1p(2))) == ("1 word", "2 words")
