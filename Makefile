# The README's two commands: `make run` (main job end to end) and `make test` (whole suite).
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
# Real data for tests and the default run; see ../shared/data/README.md.
export BENCH_DATA_HOME ?= $(abspath ../shared/data/scikit_learn_data)
# Pin native thread pools before anything imports a framework.
export OMP_NUM_THREADS ?= 1
RUN_EPOCHS ?= 2
# Fresh processes per case in `make run` (the nightly default is airflow.cfg's [bench] repeats).
RUN_REPEATS ?= 2

.PHONY: install run test lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)

$(VENV)/.installed: $(BIN)/python requirements.txt requirements-dev.txt constraints.txt pyproject.toml
	$(BIN)/pip install --disable-pip-version-check -q -r requirements-dev.txt -c constraints.txt > $(VENV)/pip.log 2>&1 \
	  || { grep -v "^WARNING: Location" $(VENV)/pip.log; exit 1; }
	$(BIN)/pip install --disable-pip-version-check -q --no-deps -e .
	$(BIN)/python -c "import bench, torch, tensorflow, airflow, great_expectations, sqlalchemy"
	touch $@

install: $(VENV)/.installed

# The main job on the embedded defaults (SQLite metadata and warehouse): set up Airflow with
# this repository as AIRFLOW_HOME, then run bench_nightly once (the nightly's settings:
# `make run RUN_EPOCHS=30 RUN_REPEATS=5`), Airflow on the cores no CPU case uses
# (scripts/on_service_cores.sh; docs/airflow.md).
run: install
	AIRFLOW_HOME=$(CURDIR) AIRFLOW_CONFIG=$(CURDIR)/airflow.cfg PATH=$(CURDIR)/$(BIN):$$PATH bash scripts/airflow_setup.sh
	AIRFLOW_HOME=$(CURDIR) AIRFLOW_CONFIG=$(CURDIR)/airflow.cfg PATH=$(CURDIR)/$(BIN):$$PATH bash scripts/airflow_run_once.sh $(RUN_EPOCHS) '"repeats": $(RUN_REPEATS)'

test: install
	bash scripts/test.sh

lint: install
	$(BIN)/ruff check bench dags plugins tests benchmarks
	$(BIN)/ruff format --check bench dags plugins tests benchmarks
	$(BIN)/mypy
