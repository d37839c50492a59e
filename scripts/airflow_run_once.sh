#!/usr/bin/env bash
# Run bench_nightly once, now, end to end in this process (`airflow dags test`: every task
# through Airflow's task runner, one after another) on the service cores, then print the run's
# results.
# Usage: airflow_run_once.sh [EPOCHS] [EXTRA_CONF_JSON_FIELDS], e.g. 30, or 2 '"devices": ["cpu"]'.
# The full nightly budget is 30 epochs: `make run RUN_EPOCHS=30`.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
export AIRFLOW_HOME="${AIRFLOW_HOME:-$repo}"
airflow="${AIRFLOW_BIN:-airflow}"
bench="${BENCH_BIN:-bench}"
python="${PYTHON_BIN:-python}"
epochs="${1:-30}"
extra="${2:-}"
conf="{\"epochs\": $epochs, \"note\": \"run once from the command line\"${extra:+, $extra}}"
log="$AIRFLOW_HOME/logs/bench_nightly_run_once.log"
mkdir -p "$(dirname "$log")"

echo "bench_nightly: running once with $conf"
echo "bench_nightly: full Airflow log in $log"
set +e
# Airflow runs on the service cores, never on a CPU case's (on_service_cores.sh). Show the
# cores, the task boundaries and bench's own lines; the rest goes to the log file.
bash "$repo/scripts/on_service_cores.sh" "$airflow" dags test bench_nightly -c "$conf" 2>&1 | tee "$log" \
  | grep --line-buffered -E "^cores: |\[DAG TEST\] (starting|end) task|\[bench\.|Marking run" \
  | sed -u -E 's/^[0-9-]+T([0-9:]+)\.[0-9]+Z \[[a-z ]+\] +/\1 /; s/ +\[(airflow|bench)\.[A-Za-z_.]+\] .*//'
status=${PIPESTATUS[0]}
set -e

run_id="$(grep -m1 -oE 'DagRun Finished: dag_id=bench_nightly, logical_date=[^,]*, run_id=[^,]+' "$log" \
  | sed 's/.*run_id=//' || true)"
if [[ -n "$run_id" ]]; then
  "$bench" results --run "$run_id" || true
  "$python" - "$run_id" <<'PY' || true
import sys
from bench.reports import report_dir
index = report_dir(sys.argv[1]) / "index.html"
print(f"report: {index}" if index.exists() else "report: none written (see the log)")
PY
fi
echo "warehouse: $("$python" -c 'from bench.warehouse import mask_url, warehouse_url; print(mask_url(warehouse_url()))')"
if [[ $status -ne 0 ]]; then
  echo "bench_nightly: the run failed; see $log" >&2
fi
exit "$status"
