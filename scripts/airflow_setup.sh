#!/usr/bin/env bash
# Prepare an Airflow installation for bench: migrate the metadata database, create the pools.
# AIRFLOW_HOME defaults to this repository (its airflow.cfg); every setting can be overridden
# with AIRFLOW__SECTION__KEY variables (the docker-compose init service does). Pool sizes:
# BENCH_CPU_SLOTS (CPU worker hosts) and BENCH_GPU_SLOTS (GPUs) override pools.json.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
export AIRFLOW_HOME="${AIRFLOW_HOME:-$repo}"
airflow="${AIRFLOW_BIN:-airflow}"

echo "airflow: migrating the metadata database (AIRFLOW_HOME=$AIRFLOW_HOME)"
"$airflow" db migrate >/dev/null
"$airflow" pools import "$repo/pools.json"
if [[ -n "${BENCH_CPU_SLOTS:-}" ]]; then
  "$airflow" pools set bench_cpu "$BENCH_CPU_SLOTS" "CPU benchmark cases, one slot per CPU worker host" >/dev/null
fi
if [[ -n "${BENCH_GPU_SLOTS:-}" ]]; then
  "$airflow" pools set bench_gpu "$BENCH_GPU_SLOTS" "GPU benchmark cases, one slot per GPU" >/dev/null
fi
"$airflow" pools list
