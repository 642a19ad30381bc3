"""Which encoder layer should a course model pool? Validation QWK of the worker's own training
(`trainer.train`: feature columns, averaged ridge heads, tuned cut points) when the embeddings
come from one layer of the full encoder, or a mix of layers, instead of the last one.

For each prompt: N essays sampled from train.csv (seed 0, as `gradeloop bench`), all of
validation.csv; every layer's mean-pooled states are computed once with the FULL encoder, then
each variant fills `train`'s embedding cache with its vectors, so training is exactly the
worker's and only the embedding differs. The general model is pretrained leave-one-prompt-out.
Tunes on validation.csv only (test.csv is for `gradeloop bench`). About 20 min on 2 cores:

    nice -n 10 .venv/bin/python -m benchmarks.encoder_layers --data ../shared/data/persuade --n 50,100,300
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from config.settings import default_base_model
from worker.ml import rounding
from worker.ml.corpora import list_prompts, load_prompt
from worker.ml.encoder import load_encoder, mean_pool
from worker.ml.examples import Examples
from worker.ml.general import pretrain
from worker.ml.headinputs import head_features
from worker.ml.metrics import qwk
from worker.ml.tokens import head_tail_ids, length_sorted_batches, pad_batch
from worker.ml.trainer import TrainConfig, train

VARIANTS = {
    "layer 6 (all)": lambda h: h[5], "layer 5": lambda h: h[4], "layer 4": lambda h: h[3],
    "layer 3": lambda h: h[2], "mean 5-6": lambda h: h[4:6].mean(0), "mean 4-6": lambda h: h[3:6].mean(0),
    "mean 1-6": lambda h: h.mean(0),
}


@torch.inference_mode()
def layer_embeddings(encoder, base_model: str, texts: list[str]) -> np.ndarray:
    """(layers, essays, dim): the mean-pooled output of every layer, head+tail 512 tokens."""
    ids = head_tail_ids(base_model, texts, 512, 128)
    n_layers, dim = encoder.config.num_hidden_layers, encoder.config.hidden_size
    out = np.zeros((n_layers, len(texts), dim), dtype=np.float32)
    for batch in length_sorted_batches([len(x) for x in ids], 16):
        input_ids, mask = (torch.from_numpy(a) for a in pad_batch([ids[i] for i in batch]))
        hidden = encoder(input_ids=input_ids, attention_mask=mask, output_hidden_states=True).hidden_states
        for layer in range(n_layers):
            out[layer, batch] = mean_pool(hidden[layer + 1], mask).numpy()
    return out


def validation_qwk(model, base_model: str, texts, emb_val: np.ndarray, y_val, lo: int, hi: int) -> float:
    feats = head_features(base_model, texts, model.lexical, model.general)
    x = torch.from_numpy(np.hstack([emb_val, feats]).astype(np.float32))
    with torch.no_grad():
        raw = model.targets[0].denormalise(model.module.head(x).numpy()[:, 0])
    return qwk(np.asarray(y_val, dtype=int), rounding.apply_cuts(raw, model.cuts[0], lo), lo, hi)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", required=True)
    ap.add_argument("--n", default="50,100,300")
    ap.add_argument("--prompts", default=None)
    args = ap.parse_args()
    ns = [int(x) for x in args.n.split(",")]
    base = default_base_model()
    encoder = load_encoder(base, "all")
    prompts = args.prompts.split(",") if args.prompts else list_prompts(args.data)
    results: dict[tuple[str, int], list[float]] = {}
    feature_cache: dict = {}
    started = time.monotonic()
    for name in prompts:
        prompt = load_prompt(args.data, name)
        train_split, val = prompt.splits["train"], prompt.splits["validation"]
        order = np.random.default_rng(0).permutation(len(train_split.texts))[:max(ns)]
        texts = [train_split.texts[i] for i in order]
        scores = [train_split.scores[i] for i in order]
        hidden = layer_embeddings(encoder, base, texts + val.texts)
        general = pretrain(args.data, base, exclude_prompts=[name], feature_cache=feature_cache)
        for variant, pick in VARIANTS.items():
            emb = pick(hidden)
            for n in ns:
                cache = dict(zip(texts[:n], emb[:n]))
                config = TrainConfig(base_model=base, finetune="never", general=general, encoder_layers="all")
                model = train(Examples(texts=texts[:n], scores=scores[:n], score_min=prompt.lo,
                                       score_max=prompt.hi), config, embed_cache=cache)
                q = validation_qwk(model, base, val.texts, emb[len(texts):], val.scores, prompt.lo, prompt.hi)
                results.setdefault((variant, n), []).append(q)
        print(f"prompt {name} done ({time.monotonic() - started:.0f} s)", flush=True)
    print(f"validation QWK, mean over {len(prompts)} prompts:")
    for variant in VARIANTS:
        print(f"  {variant:20s} " + "  ".join(f"N={n} {np.mean(results[(variant, n)]):.3f}" for n in ns))


if __name__ == "__main__":
    main()
