# Two entry points: `make run` (full demo DAG, its report and summary) and `make test` (lint + test suite).
# Both build .venv from nothing, idempotently.
PYTHON ?= python3
VENV ?= .venv
# CPU wheel by default; GPU users: make TORCH_SPEC="torch==2.13.0 --index-url ..." run
TORCH_SPEC ?= torch==2.13.0
CORES ?= all
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint format venv clean dryrun rulegraph

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet $(TORCH_SPEC)
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(STAMP)

# the whole DAG, its HTML report, and the per-run summary table
run: $(STAMP)
	$(BIN)/snakemake --cores $(CORES)
	$(BIN)/snakemake --report results/report.html
	$(BIN)/python -m emgcore.report.summary results/results.csv

dryrun: $(STAMP)
	$(BIN)/snakemake -n

test: lint
	$(BIN)/python -m pytest -q

# ruff (lint + format) over the Python, snakefmt and snakemake --lint over the workflow; `make format` fixes
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/snakefmt --check Snakefile rules/
	$(BIN)/snakemake --lint --quiet

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .
	$(BIN)/snakefmt Snakefile rules/

rulegraph: $(STAMP)
	$(BIN)/snakemake --rulegraph | dot -Tsvg > docs/rulegraph.svg

clean:
	rm -rf results .snakemake
