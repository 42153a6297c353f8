# colorkit — every target bootstraps .venv on first use (no separate setup step).
#   make reproduce [PROFILE=pretrained|quick|full] [JOBS=2]   run all notebooks into reports/<profile>/
#   make test                                        lint + unit tests + nbval over the notebooks (+ browser tests if Chromium is installed)
#   make lab | data | bench | student | lint | test-browser

SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PROFILE ?= pretrained
KERNEL := colorkit
LOCK := requirements.lock
LOCK_NODEPS := requirements-nodeps.lock
# The stamp is keyed on the lock's content: a changed lock reinstalls, an unchanged one does nothing.
STAMP := $(VENV)/.stamp-$(shell (sha256sum $(LOCK) $(LOCK_NODEPS) pyproject.toml 2>/dev/null || echo none) | sha256sum | cut -c1-16)

.PHONY: help venv reproduce lint test test-unit test-notebooks test-browser lab data bench student clean-venv

help:
	@sed -n '1,6p' Makefile

venv: $(STAMP)

$(STAMP):
	@command -v $(PYTHON) >/dev/null || { echo "need $(PYTHON) (set PYTHON=...)"; exit 1; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r $(LOCK)
	$(PY) -m pip install -q --no-deps -r $(LOCK_NODEPS)
	$(PY) -m pip install -q --no-deps --no-build-isolation -e .
	$(PY) -m ipykernel install --sys-prefix --name $(KERNEL) --display-name "Python 3 (colorkit)" >/dev/null
	@rm -f $(VENV)/.stamp-* && touch $@
	@echo "environment ready: $(VENV)"

# Two notebooks at a time by default (each kernel gets half the cores); JOBS=1 runs them one by one on the
# whole machine, for timings that describe it.
JOBS ?= 2
reproduce: $(STAMP)
	$(PY) -m colorkit.cli reproduce --profile $(PROFILE) --jobs $(JOBS)

lint: $(STAMP)
	$(PY) -m ruff check colorkit tests benchmarks

test: lint test-unit test-notebooks
	@$(MAKE) --no-print-directory test-browser-if-available

# Tests run on two workers (NB_JOBS), one torch thread each; a test file (or notebook) stays on one worker.
NB_JOBS ?= 2
test-unit: $(STAMP)
	OMP_NUM_THREADS=1 $(PY) -m pytest -q -n $(NB_JOBS) --dist loadfile tests --ignore=tests/browser -p no:cacheprovider

# Two notebooks at a time, one torch thread each: a notebook alone keeps two cores busy only part of the time.
test-notebooks: $(STAMP)
	COLORKIT_PROFILE=pretrained OMP_NUM_THREADS=1 $(PY) -m pytest -q -n $(NB_JOBS) --dist loadfile \
	  --nbval-lax --nbval-kernel-name $(KERNEL) --nbval-cell-timeout 900 -p no:cacheprovider notebooks/

test-browser: $(STAMP)
	$(PY) -m pytest -q tests/browser -p no:cacheprovider

.PHONY: test-browser-if-available
test-browser-if-available: $(STAMP)
	@if [ -x /usr/bin/chromium ]; then $(MAKE) --no-print-directory test-browser; \
	 else echo "browser tests skipped: Chromium not installed (sudo apt-get install -y chromium, then make test-browser)"; fi

lab: $(STAMP)
	$(VENV)/bin/jupyter lab notebooks/

data: $(STAMP)
	$(PY) -m colorkit.cli data build

bench: $(STAMP)
	@for b in benchmarks/*_bench.py; do echo "== $$b"; $(PY) $$b || exit 1; done

student: $(STAMP)
	$(PY) -m colorkit.cli course student-edition

clean-venv:
	rm -rf $(VENV)
