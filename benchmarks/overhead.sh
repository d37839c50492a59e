#!/usr/bin/env bash
# Harness overhead: steady epoch time of each bench trainer vs the bare loop of its mode,
# measured back to back on this machine (1 thread). Usage: bash benchmarks/overhead.sh [EPOCHS]
set -euo pipefail
cd "$(dirname "$0")/.."
EPOCHS="${1:-6}"
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 TF_CPP_MIN_LOG_LEVEL=2
out=$(mktemp -d)
printf '| case | bare loop s/epoch | bench trainer s/epoch | ratio |\n|---|---:|---:|---:|\n'
for mode in torch-eager torch-compile torch-compile-reduce-overhead torch-compile-max-autotune \
            tensorflow-eager tensorflow-function tensorflow-xla; do
  fw=${mode%%-*}; m=${mode#*-}
  bare=$(.venv/bin/python benchmarks/bare_loops.py "$mode" --epochs "$EPOCHS" | tail -1)
  .venv/bin/bench run --framework "$fw" --mode "$m" --epochs "$EPOCHS" --no-store --quiet \
    --json "$out/$mode.json" >/dev/null
  .venv/bin/python - "$bare" "$out/$mode.json" "$mode" <<'PY'
import json, sys
bare = json.loads(sys.argv[1])["steady_epoch_s"]
ours = json.load(open(sys.argv[2]))["steady_epoch_seconds"]
print(f"| {sys.argv[3]}-cpu | {bare:.4f} | {ours:.4f} | {ours / bare:.2f} |")
PY
done
