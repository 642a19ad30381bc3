# Gradeloop: `make run` starts the product on embedded defaults, `make test` runs the whole suite.
# Both create .venv when needed and are safe to run again.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
# CPU build of torch by default (no multi-GB CUDA download). A GPU host overrides it:
#   make run TORCH_SPEC=torch==2.13.0
TORCH_SPEC ?= torch==2.13.0+cpu
PYTEST_ARGS ?=

.PHONY: run test install install-dev bench clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip setuptools wheel

$(VENV)/.installed: $(VENV)/bin/python pyproject.toml
	$(PIP) install --quiet "$(TORCH_SPEC)"
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
