# pastdue: the README's two commands live here.
#   make demo   sets up, builds a sample ledger, runs the dunning, prints a summary, serves the dashboard
#   make test   sets up and runs ruff, mypy and every test
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint bench bench-deliver bench-matching bench-web setup clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)
	$(BIN)/pastdue demo --dir demo

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy

test: lint
	$(BIN)/pytest

# Benchmarks print figures; they assert nothing about time. BENCH_INVOICES=10000 for a quick look.
BENCH_INVOICES ?= 1000000
bench: $(STAMP)
	$(BIN)/python bench/ledger.py --invoices $(BENCH_INVOICES)

bench-deliver: $(STAMP)
	$(BIN)/python bench/deliver.py --invoices $(BENCH_INVOICES)

bench-matching: $(STAMP)
	$(BIN)/python bench/matching.py --invoices $(BENCH_INVOICES)

bench-web: $(STAMP)
	$(BIN)/python bench/web.py --invoices $(BENCH_INVOICES)

clean:
	rm -rf $(VENV) demo .pytest_cache .mypy_cache .ruff_cache .hypothesis bench/data
