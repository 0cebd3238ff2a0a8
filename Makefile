# Two commands on a fresh machine: `make run` and `make test`.
# Everything else (the venv, the packages, the embedded PostgreSQL) is set up on the way.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test test-long lint i18n bench bench-clean clean wheel

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,dev]'
	@touch $(STAMP)

run: $(STAMP)
	$(BIN)/clinic-tui

# Two workers: most of a UI test's time is spent waiting, and each worker has its own server.
test: $(STAMP)
	$(BIN)/python -m pytest -m "not long" -n 2 $(PYTEST_ARGS)

test-long: $(STAMP)
	$(BIN)/python -m pytest -m long $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check src tests alembic
	$(BIN)/ruff format --check src tests alembic

i18n: $(STAMP)
	$(BIN)/python -m clinic_tui.i18n_tools update

# Builds the benchmark database in .bench/ once (under 5 minutes), then reuses it; the table
# is printed and also written as the README's "Performance" section to .bench/performance.md.
bench: $(STAMP)
	$(BIN)/python -m tests.perf --markdown .bench/performance.md

bench-clean: $(STAMP)
	$(BIN)/python -m tests.perf --clean

wheel: $(STAMP)
	$(BIN)/python -m build --wheel --outdir dist .

clean:
	rm -rf $(VENV) dist build .pytest_cache
