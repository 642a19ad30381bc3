"""GPU check (run by `scripts/gpu_check.sh` on a bare CUDA host): the worker's own retrain code
path (`retrain` + refit + ONNX export + parity), on CUDA with bf16 autocast, for N=300 and 800.

Needs only torch, transformers, tokenizers, onnxruntime, scikit-learn, numpy (+ `onnx` for the
int8 graph, `datasets` optional): no Flask, kombu or database. Prints one JSON line per run and
the benchmark's summary lines.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data", required=True, help="folder of <prompt>/{train,validation,test}.csv")
    ap.add_argument("--model", required=True, help="base model directory (MiniLM, fp16 or fp32)")
    ap.add_argument("--device", default="cuda", choices=["cuda", "cpu"])
    ap.add_argument("--n", default="300,800")
    ap.add_argument("--prompts", default=None, help="default: the first two prompt folders")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--max-test", type=int, default=None)
    ap.add_argument("--finetune", default="auto", choices=["auto", "never", "always"])
    ap.add_argument("--encoder-layers", default="4",
                    help="layers of the encoder to keep: 4 is the product's default for the packaged "
                         "MiniLM-L6 (a copy of it carried to the host is not recognised as packaged); "
                         "'all' or a number for another model")
    ap.add_argument("--out", default=None)
    args = ap.parse_args(argv)

    os.environ["HF_HUB_OFFLINE"] = "1"
    import torch

    from worker.ml import bench
    from worker.ml.corpora import list_prompts
    from worker.ml.device import mixed_precision

    cuda = torch.cuda.is_available()
    print(json.dumps({"torch": torch.__version__, "cuda": cuda,
                      "gpu": torch.cuda.get_device_name(0) if cuda else None,
                      "bf16": cuda and torch.cuda.is_bf16_supported(),
                      "fine-tuning precision": str(mixed_precision(torch.device("cuda" if cuda else "cpu"))
                                                   or "fp32").removeprefix("torch."),
                      "device": args.device}), flush=True)
    if args.device == "cuda" and not torch.cuda.is_available():
        print("CUDA requested but not available", file=sys.stderr)
        return 2
    prompts = args.prompts.split(",") if args.prompts else list_prompts(args.data)[:2]
    ns = [int(x) for x in args.n.split(",")]
    started = time.monotonic()
    result = bench.run_bench(args.data, prompts, ns, [args.seed], ["default", "baseline"], args.model,
                             device=args.device, out=args.out, max_test=args.max_test,
                             echo=lambda line: print(line, flush=True),
                             train_overrides={"finetune": args.finetune, "encoder_layers": args.encoder_layers})
    print("parity (QWK drop torch -> onnx, per run) " + json.dumps(result["parity_qwk_drop"]))
    print(f"total seconds {time.monotonic() - started:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
