# Two entry points: `make run` (full demo DAG, its report and summary) and `make test` (lint + test suite).
# Both build .venv from nothing, idempotently.
PYTHON ?= python3
VENV ?= .venv
# CPU wheel by default; GPU users: make TORCH_SPEC="torch==2.13.0 --index-url ..." run
TORCH_SPEC ?= torch==2.13.0
CORES ?= all
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# second environment: the optional libemg extra (numpy<2, so CPython <= 3.12) for the parity tests
LIBEMG_PYTHON ?= $(PYTHON)
LIBEMG_VENV ?= .venv-libemg
LIBEMG_BIN := $(LIBEMG_VENV)/bin
LIBEMG_STAMP := $(LIBEMG_VENV)/.installed

.PHONY: run test test-main test-libemg lint format venv clean dryrun rulegraph

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet $(TORCH_SPEC)
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(STAMP)

$(LIBEMG_STAMP): pyproject.toml
	test -x $(LIBEMG_BIN)/python || $(LIBEMG_PYTHON) -m venv $(LIBEMG_VENV)
	$(LIBEMG_BIN)/python -m pip install --quiet --upgrade pip
	$(LIBEMG_BIN)/python -m pip install --quiet $(TORCH_SPEC)
	$(LIBEMG_BIN)/python -m pip install --quiet -e ".[test,libemg]"
	touch $(LIBEMG_STAMP)

# the whole DAG, its HTML report, and the per-run summary table
run: $(STAMP)
	$(BIN)/snakemake --cores $(CORES)
	$(BIN)/snakemake --report results/report.html
	$(BIN)/python -m emgcore.report.summary results/results.csv

dryrun: $(STAMP)
	$(BIN)/snakemake -n

# lint, the whole suite (numpy 2, no libemg), then the library's unit tests beside libemg 2.0.3 (numpy 1.26):
# the live parity with libemg and the libemg Dataset adapter run there
test: test-main test-libemg

test-main: lint
	$(BIN)/python -m pytest -q

test-libemg: $(LIBEMG_STAMP)
	$(LIBEMG_BIN)/python -c "import libemg, numpy; assert int(numpy.__version__.split('.')[0]) < 2, numpy.__version__"
	$(LIBEMG_BIN)/python -m pytest -q -p no:cacheprovider tests/features tests/data tests/preprocess tests/models \
		tests/cross tests/report tests/disentangle

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
