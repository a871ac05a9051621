# `make run`  — set up everything, write the demo CRM exports, run the nightly DAG with a real
#               local Airflow, print the retention tables.
# `make test` — set up everything, run the whole test suite.
PYTHON ?= python3.11
UV_VERSION := 0.13.9
VENV := .venv
BIN := $(VENV)/bin
DEMO_LANDING := demo/landing
DATA_DOCS_NPM := src/retention/outputs/data_docs/npm

# A project-local Airflow on SQLite; the DAG folder is this repository's dags/.
export AIRFLOW_HOME ?= $(CURDIR)/airflow_home
export AIRFLOW__CORE__DAGS_FOLDER := $(CURDIR)/dags
export AIRFLOW__CORE__LOAD_EXAMPLES := False
export AIRFLOW__CORE__UNIT_TEST_MODE := False

.PHONY: run test test-fast install browser demo airflow-db airflow-dags-test lint benchmark lock clean
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

install: $(VENV)/.installed $(DATA_DOCS_NPM)/node_modules/.package-lock.json

# --compile-bytecode: every dbt, Airflow and CLI process would otherwise compile its imports from source
# again each time it starts wherever PYTHONDONTWRITEBYTECODE is set (seconds per process)
$(VENV)/.installed: requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip --version > /dev/null 2>&1 || $(BIN)/python -m ensurepip > /dev/null  # a venv made by uv has no pip
	$(BIN)/python -m pip install -q "uv==$(UV_VERSION)"
	$(BIN)/uv pip install -q --compile-bytecode --python $(BIN)/python -r requirements.lock
	$(BIN)/uv pip install -q --python $(BIN)/python --no-deps -e .
	touch $@

# Debian's chromium, for the browser tests (the report and the Data Docs opened offline in headless Chromium).
# Playwright drives it; it never downloads a browser of its own.
browser:
	@command -v chromium > /dev/null 2>&1 || $(SUDO) apt-get install -y -q chromium > /dev/null \
		|| ($(SUDO) apt-get update -q > /dev/null && $(SUDO) apt-get install -y -q chromium > /dev/null)

# The Data Docs assets no PyPI package carries (bootstrap-table, bootstrap-dark): npm, from its lock
# (src/retention/outputs/data_docs/assets.py); npm writes node_modules/.package-lock.json last
$(DATA_DOCS_NPM)/node_modules/.package-lock.json: $(DATA_DOCS_NPM)/package-lock.json $(DATA_DOCS_NPM)/package.json
	npm ci --prefix $(DATA_DOCS_NPM) --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $@

demo: install
	test -d $(DEMO_LANDING) || $(BIN)/retention demo --out $(DEMO_LANDING)

# airflow_home/airflow.env: the variables that point a shell's `airflow` at this project (README, Airflow).
airflow-db: install
	mkdir -p $(AIRFLOW_HOME)
	$(BIN)/airflow db migrate > $(AIRFLOW_HOME)/migrate.log 2>&1 || (cat $(AIRFLOW_HOME)/migrate.log; exit 1)
	printf '%s\n' '# written by `make airflow-db`: `. $(AIRFLOW_HOME)/airflow.env` before running `airflow` by hand' \
		'export AIRFLOW_HOME=$(AIRFLOW_HOME)' \
		'export AIRFLOW__CORE__DAGS_FOLDER=$(AIRFLOW__CORE__DAGS_FOLDER)' \
		'export AIRFLOW__CORE__LOAD_EXAMPLES=False' \
		'export AIRFLOW__CORE__UNIT_TEST_MODE=False' \
		'export PATH=$(CURDIR)/$(BIN):$$PATH' > $(AIRFLOW_HOME)/airflow.env

# `make airflow-dags-test DATE=YYYY-MM-DD`: the DAG for that logical date, its log on the terminal
airflow-dags-test: airflow-db
	@test -n "$(DATE)" || (echo "usage: make airflow-dags-test DATE=YYYY-MM-DD"; exit 2)
	$(BIN)/airflow dags test crm_retention "$(DATE)"

run: demo airflow-db
	RETENTION_LANDING_DIR=$(DEMO_LANDING) $(BIN)/airflow dags test crm_retention "$$(date -u +%F)" \
		> $(AIRFLOW_HOME)/last_dags_test.log 2>&1 \
		|| (tail -n 60 $(AIRFLOW_HOME)/last_dags_test.log; exit 1)
	@grep -E "DagRun Finished" $(AIRFLOW_HOME)/last_dags_test.log | sed -E 's/.*(DagRun Finished: [^,]*, [^,]*).*(state=[a-z]+).*/\1, \2/'
	@RETENTION_LANDING_DIR=$(DEMO_LANDING) $(BIN)/retention status --last-run
	@echo
	RETENTION_LANDING_DIR=$(DEMO_LANDING) $(BIN)/retention show
	@echo
	@report=$$(RETENTION_LANDING_DIR=$(DEMO_LANDING) $(BIN)/retention report) && \
		echo "The retention report (opens from disk): $$report" && \
		echo "Beside it in $$(dirname $$report)/: parquet/ (every mart), docs/ (dbt docs), data_docs/ (the audit's Data Docs)" && \
		echo "Open it in a browser: .venv/bin/retention report --open"

# -n auto: one pytest worker per core; --dist loadfile keeps a module's tests (and its module fixtures) on one worker.
# The warehouses many tests start from are built once per run and shared (tests/conftest.py, built_once).
test: install browser
	$(BIN)/python -m pytest -n auto --dist loadfile

# For iterating: unit and DAG-import tests, no full pipeline run, fewer property examples (< 2 min).
test-fast: install
	RETENTION_TEST_TIER=fast $(BIN)/python -m pytest -m "not slow and not airflow" tests/unit tests/dags

# mypy checks src/ with the settings in pyproject.toml ([tool.mypy]).
# sqlfluff's dbt templater loads the project through the profile: its build database, DuckDB spill
# directory and dbt's target/ and logs/ go to a throwaway directory, so it needs no prior run and leaves no file.
lint: install
	$(BIN)/ruff check src dags tests benchmarks scripts
	$(BIN)/ruff format --check src dags tests benchmarks scripts
	$(BIN)/mypy
	tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	env RETENTION_DBT_TARGET=duckdb RETENTION_BUILD_DATABASE=$$tmp/build.duckdb RETENTION_DUCKDB_TEMP_DIR=$$tmp/duckdb_tmp \
		DBT_TARGET_PATH=$$tmp/target DBT_LOG_PATH=$$tmp/logs DBT_SEND_ANONYMOUS_USAGE_STATS=false DO_NOT_TRACK=1 \
		$(BIN)/sqlfluff lint dbt_project

benchmark: install
	$(BIN)/python benchmarks/ingest_vs_read_csv.py

# -o reads the current pins as preferences: only what pyproject.toml's changes need moves.
# Overrides of dependencies' own bounds are in pyproject.toml, [tool.uv].
lock:
	$(BIN)/uv pip compile pyproject.toml --extra dev --python-version 3.11 --no-header -o requirements.lock
	sed -i '1i # Exact versions of every dependency (transitive too). Regenerate with `make lock` after editing pyproject.toml.' requirements.lock

clean:
	rm -rf $(VENV) warehouse demo airflow_home dbt_project/target dbt_project/logs
