# Gradeloop: `make run` starts the product on embedded defaults, `make test` runs the whole suite.
# Both create .venv when needed and are safe to run again.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
# CPU build of torch by default (no multi-GB CUDA download). A GPU host overrides it:
#   make run TORCH_SPEC=torch==2.13.0
# macOS wheels are CPU-only and carry no `+cpu` tag (PyTorch's CPU index names them plain), so
# `+cpu` would find nothing there.
ifeq ($(shell uname -s),Darwin)
TORCH_SPEC ?= torch==2.13.0
else
TORCH_SPEC ?= torch==2.13.0+cpu
endif
# PyPI has no `+cpu` builds: they are on PyTorch's own index. pip first tries the sources it is
# configured with (a wheel folder or mirror may hold the build, and an offline machine then never
# touches the network); only if that fails is PyTorch's index added as an *extra* index, so torch's
# dependencies still come from PyPI or the configured index. Empty disables the second try.
TORCH_INDEX_URL ?= https://download.pytorch.org/whl/cpu
PYTEST_ARGS ?=

.PHONY: run test install install-dev bench clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip setuptools wheel

$(VENV)/.installed: $(VENV)/bin/python pyproject.toml
ifeq ($(strip $(TORCH_INDEX_URL)),)
	$(PIP) install --quiet "$(TORCH_SPEC)"
else
	$(PIP) install --quiet "$(TORCH_SPEC)" 2>/dev/null || { \
	  echo "$(TORCH_SPEC) is not on pip's configured index; trying $(TORCH_INDEX_URL) as an extra index"; \
	  $(PIP) install --quiet --extra-index-url "$(TORCH_INDEX_URL)" "$(TORCH_SPEC)"; }
endif
	$(PIP) install --quiet -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(PIP) install --quiet -e ".[dev]"
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

run: install
	$(VENV)/bin/gradeloop run

test: install-dev
	$(PY) -m pytest $(PYTEST_ARGS)

bench: install
	$(VENV)/bin/gradeloop bench --data ../shared/data/persuade --out results.json

clean:
	rm -rf $(VENV) instance test-output .pytest_cache
