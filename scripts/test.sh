#!/usr/bin/env bash
# The whole test suite, as CI runs it: lint, types, then every test tier (none skipped).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
export BENCH_DATA_HOME="${BENCH_DATA_HOME:-$(cd .. && pwd)/shared/data/scikit_learn_data}"
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
# Tests write their warehouses and caches here, never into the user's data directory.
export BENCH_HOME="${BENCH_HOME:-$(mktemp -d)}"
export BENCH_TEST_PG_URL="${BENCH_TEST_PG_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/postgres}"
# PostgreSQL and Redis: started when stopped here, else one line naming what to start.
bash scripts/services.sh
$BIN/ruff check bench dags plugins tests benchmarks
$BIN/ruff format --check bench dags plugins tests benchmarks
$BIN/mypy
$BIN/python -m pytest "$@"
