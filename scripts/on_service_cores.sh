#!/usr/bin/env bash
# Run a command (Airflow: `airflow dags test`, `airflow standalone`) on the service cores, the
# cores no CPU case runs on (bench.conditions.service_cores), so it never shares a core with a
# CPU benchmark. Exports BENCH_CPU_CORES, the CPU cases' cores computed here, so the cases the
# pinned command starts keep this layout. Runs the command unpinned, saying why on stderr, where
# taskset (util-linux) is missing, on one core, or where bench would not keep that layout
# inside the pinned process.
# Usage: on_service_cores.sh COMMAND [ARGS...]
set -euo pipefail
python="${PYTHON_BIN:-python}"
taskset="${TASKSET_BIN:-taskset}"
# One line: "CPU-case-cores GPU-case-cores" as bench sees them from the calling process, or
# "error: why" (exit 2).
layout='
from bench.conditions import CoresError, case_cores, format_cores
from bench.config import RunSettings

try:
    threads = RunSettings.from_env().threads
    print(format_cores(case_cores("cpu", threads)), format_cores(case_cores("gpu", threads)))
except (CoresError, ValueError) as exc:
    print(f"error: {exc}")
    raise SystemExit(2)
'

outside="$("$python" -c "$layout")" || {
  outside="${outside#error: }"
  echo "cores: ${outside:-$python could not compute the core layout (see above)}" >&2
  exit 2
}
read -r cpu service <<<"$outside"
if [[ "$cpu" == "$service" ]]; then
  echo "cores: one core ($cpu): nothing to keep apart, running unpinned" >&2
  exec "$@"
fi
if ! command -v "$taskset" >/dev/null 2>&1; then
  echo "cores: taskset (util-linux) not found: running unpinned; Airflow may share core(s) $cpu with CPU cases" >&2
  exec "$@"
fi
inside="$(BENCH_CPU_CORES="$cpu" "$taskset" -c "$service" "$python" -c "$layout" || true)"
if [[ "$inside" != "$cpu $service" ]]; then
  echo "cores: running unpinned: under a pin to $service, bench would not put CPU cases on $cpu and GPU cases on $service ($inside)" >&2
  exec "$@"
fi
echo "cores: Airflow and GPU cases on $service, CPU cases on $cpu (BENCH_CPU_CORES)" >&2
export BENCH_CPU_CORES="$cpu"
exec "$taskset" -c "$service" "$@"
