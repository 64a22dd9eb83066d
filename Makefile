# Two commands for a fresh machine: `make run` and `make test`. Everything else is a helper.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
FLASK := $(BIN)/flask --app wsgi
PG_TEST_URL ?= postgresql://127.0.0.1:5432/test
PG_ADMIN_URL ?= postgresql://127.0.0.1:5432/postgres
PYTEST_ARGS ?=
# Two workers: the machines this runs on have two cores.
XDIST ?= -n 2

.PHONY: install run test test-sqlite test-postgres test-e2e lint bench loadtest chromium translations clean

$(STAMP): pyproject.toml package.json
	bash scripts/install-system-deps.sh
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	MPLBACKEND=Agg $(BIN)/python -c "import matplotlib.font_manager"
	npm ci --no-audit --no-fund --silent
	touch $(STAMP)

install: $(STAMP)

## Run the app on SQLite with the demo partnership; prints the demo logins.
run: install
	$(FLASK) db upgrade
	$(FLASK) questionnaire import
	$(FLASK) demo seed --if-empty
	@echo "Mitra Sehat is at http://127.0.0.1:5000"
	$(FLASK) run --host 127.0.0.1 --port 5000

## The whole suite: unit and integration on SQLite, then the real-browser tests.
test: test-sqlite test-e2e

test-sqlite: install
	$(BIN)/python -m pytest -m "not e2e" $(XDIST) $(PYTEST_ARGS)

## The suite again on PostgreSQL (a schema per test), the tests that use the database (tests/conftest.py);
## set PG_TEST_URL for another server.
test-postgres: install
	MITRA_TEST_DATABASE_URL=$(PG_TEST_URL) $(BIN)/python -m pytest -m "not e2e" $(XDIST) $(PYTEST_ARGS)

test-e2e: install chromium
	$(BIN)/python -m pytest -m e2e tests/e2e $(PYTEST_ARGS)

chromium:
	@bash scripts/install-chromium.sh

## ruff on everything (numpydoc docstrings in analysis/), mypy strict on analysis/.
lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy

bench: install
	$(BIN)/python bench/analysis.py

## Load and fault suites in full (bench/load.py on SQLite and PostgreSQL, bench/faults.py);
## their 20-second versions run in `make test` (tests/app/test_bench_quick.py).
loadtest: install
	$(BIN)/python bench/load.py --database sqlite
	$(BIN)/python bench/load.py --database postgres --pg-admin-url $(PG_ADMIN_URL)
	$(BIN)/python bench/faults.py --database postgres --pg-admin-url $(PG_ADMIN_URL)

translations: install
	$(FLASK) translate update
	$(FLASK) translate compile

clean:
	rm -rf $(VENV) instance/mitra.db* .pytest_cache
