# The two commands of the README's quick start.  Both create .venv on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo lint test test-fast bench calibrate install clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

## the main job: the bundled county baseline against two alternatives (a study), comparison table and brief
demo: $(STAMP)
	$(BIN)/python -m sim study=demo run=demo

## the static checks: ruff (the rules in pyproject.toml) and mypy ([tool.mypy] there), zero errors
lint: $(STAMP)
	$(BIN)/ruff check sim calibration tests scripts benchmarks
	$(BIN)/mypy --check-untyped-defs sim calibration

## the static checks, then the whole test suite (slow validation runs included, with small honest settings)
test: lint
	$(BIN)/python -m pytest -n auto -q

## the static checks, then the suite without the slow validation runs
test-fast: lint
	$(BIN)/python -m pytest -n auto -q -m "not slow"

## fit every bundled county (resumable: outputs/calibration/<network>/), then rewrite docs/validation.md
calibrate: $(STAMP)
	for n in taobei xianghe qingbaijiang liuzhou qingdao toy; do $(BIN)/python -m calibration network=$$n || exit 1; done
	$(BIN)/python -m calibration.validation

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_model.py
	cd benchmarks && ../$(BIN)/python bench_sweep.py

clean:
	rm -rf $(VENV) outputs .pytest_cache .mypy_cache .ruff_cache
