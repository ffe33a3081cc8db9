# Two commands set up everything: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=

.PHONY: run test check lint typecheck pytest system-deps fixtures bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

## run: install and start the server on http://$(HOST):$(PORT)
run: $(STAMP)
	$(BIN)/mediadl serve --host $(HOST) --port $(PORT) --allow-network 127.0.0.2/32

## test: install what the tests need (system packages too) and run the whole suite
test: system-deps $(STAMP) check pytest

system-deps:
	@bash scripts/system-deps.sh

check: lint typecheck

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/pytest -n 2 $(PYTEST_ARGS)

## fixtures: start the offline fixture site by hand (prints its page URLs)
fixtures: $(STAMP)
	$(BIN)/mediadl-fixtures --port 8800

## bench: mediadl get vs curl, aria2c, yt-dlp on the fixture site (~20 min; QUICK=1 ~5 min)
bench: system-deps $(STAMP)
	$(BIN)/python bench/fetch_bench.py $(if $(QUICK),--quick) --out bench/results.md

clean:
	rm -rf $(VENV) .cache .pytest_cache .mypy_cache .ruff_cache test-artifacts
