#!/usr/bin/env bash
# GPU check of the course-model training path (worker/ml), for a bare CUDA host.
# Usage: scripts/gpu_check.sh --data DIR --model DIR [--device cuda|cpu] [--n 300,800]
#                             [--prompts 3,9] [--max-test K] [--finetune auto|never|always]
#                             [--encoder-layers 4|all|K] [--out FILE]
#   --data  : folder with <prompt>/{train,validation,test}.csv (PERSUADE layout)
#   --model : the base encoder directory (config.json, model.safetensors, tokenizer.json)
# Runs the worker's own retrain (held-out run, refit, ONNX export + parity check) on CUDA with
# bf16 autocast, prints train seconds, test QWK, onnxruntime parity and scoring latency.
# Needs: python3 with torch (CUDA), transformers, tokenizers, onnxruntime, scikit-learn, numpy;
# `onnx` for the int8 graph (else fp32 ONNX is checked), `datasets` optional.
set -euo pipefail
cd "$(dirname "$0")/.."
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TOKENIZERS_PARALLELISM=false
PY="${PYTHON:-python3}"
if [ -x .venv/bin/python ] && [ -z "${PYTHON:-}" ] && ! command -v nvidia-smi >/dev/null 2>&1; then
  PY=.venv/bin/python   # local CPU smoke run
fi
command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi --query-gpu=name,memory.total --format=csv,noheader || true
exec env PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" "$PY" -m worker.ml.gpu_check "$@"
