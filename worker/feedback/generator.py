"""Optional generated feedback from a LOCAL text-generation model (`GRADELOOP_FEEDBACK_MODEL`).

The deployer points the variable at a saved `transformers` causal-LM directory; nothing is
ever downloaded (`local_files_only`). The model only rephrases the same material the retrieval
path shows (the teacher's retrieved sentences and the measured points), and its output is
post-filtered: kept sentences must look like prose, are de-duplicated and bounded in number
and length. If nothing survives, the caller keeps the retrieval feedback.
"""
from __future__ import annotations

import os
import re
import threading
from functools import lru_cache
from pathlib import Path

ENV_VAR = "GRADELOOP_FEEDBACK_MODEL"
MAX_NEW_TOKENS = 120
MAX_PROMPT_TOKENS = 384


class FeedbackConfigError(RuntimeError):
    """The feedback generator is configured but unusable."""


def configured_path(environ=None) -> str | None:
    """The configured model directory, None when unset; a bad value raises FeedbackConfigError."""
    raw = (os.environ if environ is None else environ).get(ENV_VAR, "").strip()
    if not raw:
        return None
    path = Path(raw).expanduser()
    if not path.is_dir() or not (path / "config.json").is_file():
        raise FeedbackConfigError(
            f"{ENV_VAR}={raw!r} is not a local model directory (expected a folder with "
            "config.json and weights saved by transformers). Nothing is downloaded: point it "
            "at a saved model, or unset it to use the teacher's retrieved comments only.")
    return str(path.resolve())


class LocalGenerator:
    """Greedy, deterministic generation with a local causal LM."""

    def __init__(self, path: str):
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.path = path
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
            self.model = AutoModelForCausalLM.from_pretrained(path, local_files_only=True)
        except (OSError, ValueError) as exc:
            raise FeedbackConfigError(f"{ENV_VAR}={path!r} could not be loaded: {exc}") from exc
        self.model.eval()
        self._lock = threading.Lock()

    def __call__(self, prompt: str, max_new_tokens: int = MAX_NEW_TOKENS) -> str:
        import torch

        tok = self.tokenizer
        ids = tok(prompt, return_tensors="pt", truncation=True, max_length=MAX_PROMPT_TOKENS)
        pad = tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id
        with self._lock, torch.no_grad():
            out = self.model.generate(**ids, max_new_tokens=max_new_tokens, do_sample=False,
                                      pad_token_id=pad)
        return tok.decode(out[0, ids["input_ids"].shape[1]:], skip_special_tokens=True)


@lru_cache(maxsize=2)
def load_generator(path: str) -> LocalGenerator:
    return LocalGenerator(path)


def build_prompt(score_text: str, teacher: list[str], points: list[str]) -> str:
    lines = [f"A teacher gave this essay {score_text}.",
             "Comments the teacher wrote on similar essays:"]
    lines += [f"- {s}" for s in teacher] or ["- (none)"]
    lines.append("Measured facts about this essay:")
    lines += [f"- {p}" for p in points] or ["- (none)"]
    lines.append("Feedback to the student in the teacher's words, using only the above:")
    return "\n".join(lines) + "\n"


_SPLIT = re.compile(r"(?<=[.!?])\s+|\n+")
_PROSE = re.compile(r"[A-Za-z ,.;:'!?()\-\"%0-9]")


def postfilter(raw: str, max_sentences: int, max_chars: int = 600) -> list[str]:
    """Sentences of generated text that read as prose: 4-50 words, ends like a sentence,
    mostly letters, no links, no repeats; at most `max_sentences` and `max_chars` in total."""
    kept, total, seen = [], 0, set()
    for s in _SPLIT.split(raw or ""):
        s = s.strip(" -*\t")
        n_words = len(s.split())
        if not 4 <= n_words <= 50 or s[-1:] not in ".!?" or "http" in s or "@" in s:
            continue
        if sum(bool(_PROSE.match(ch)) for ch in s) < 0.95 * len(s) or "##" in s:
            continue
        key = s.lower()
        if key in seen or total + len(s) > max_chars:
            continue
        seen.add(key)
        kept.append(s)
        total += len(s) + 1
        if len(kept) >= max_sentences:
            break
    return kept
